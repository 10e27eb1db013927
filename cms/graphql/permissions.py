"""Who may resolve a field: strawberry permission classes built on ``cms.permissions``.

Use them on any field or mutation::

    from cms.graphql.permissions import IsAuthenticated, require
    from cms.permissions import Permission

    @strawberry.mutation(permission_classes=[require(Permission.TAGS_MANAGE)])
    async def create_tag(self, info: Info, input: CreateTagInput) -> CreateTagPayload: ...

    @strawberry.field(permission_classes=[IsAuthenticated])
    async def me(self, info: Info) -> Me | None: ...

- ``IsAuthenticated``: the viewer has signed in; otherwise a top-level error with
  ``extensions.code`` UNAUTHENTICATED.
- ``require(permission)``: UNAUTHENTICATED for anonymous viewers, FORBIDDEN for signed-in
  viewers whose role (narrowed by their token's scopes) lacks ``permission``. It implies
  ``IsAuthenticated``, so one class per field is enough. The same permission always yields the
  same class, so that the schema holds one directive per permission.

Both run before the resolver does any work. Checks that depend on the object (an AUTHOR may edit
only their own posts) belong in the resolver or the service: raise ``cms.errors.PermissionDenied``
there, after loading the object.

A bearer token that is presented but unknown, expired or revoked is not handled here: the
``RejectInvalidCredentials`` extension fails the whole operation before any field resolves (see
its docstring).
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from typing import TYPE_CHECKING, Any

from graphql import ExecutionResult as GraphQLExecutionResult
from graphql.error import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.permission import BasePermission

from cms.errors import PermissionDenied, Unauthenticated
from cms.graphql.context import context_of
from cms.permissions import Permission

if TYPE_CHECKING:
    from cms.graphql.context import Info

__all__ = ["IsAuthenticated", "RejectInvalidCredentials", "require"]

SIGN_IN_MESSAGE = "You must be signed in: send an `Authorization: Bearer <token>` header."


class IsAuthenticated(BasePermission):
    """Grants any signed-in viewer; anonymous viewers get UNAUTHENTICATED."""

    message = SIGN_IN_MESSAGE
    error_extensions = {"code": Unauthenticated.code}  # noqa: RUF012 (strawberry's API)

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        return info.context.viewer.is_authenticated


@cache
def require(permission: Permission) -> type[BasePermission]:
    """The permission class that grants viewers holding ``permission``."""

    class Require(BasePermission):
        message = f"You do not have the `{permission.value}` permission."
        error_extensions = {"code": PermissionDenied.code}  # noqa: RUF012

        def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
            viewer = info.context.viewer
            if not viewer.is_authenticated:
                # Anonymous callers are told to sign in, not that they lack a permission.
                IsAuthenticated().on_unauthorized()
            return viewer.can(permission)

    # Strawberry names a schema directive after each permission class; keep the names unique.
    name = "Require" + "".join(part.title() for part in permission.name.split("_"))
    Require.__name__ = Require.__qualname__ = name
    return Require


class RejectInvalidCredentials(SchemaExtension):
    """Fails the whole operation with UNAUTHENTICATED when the request's bearer token is bad.

    Authentication happens while the context is built (``cms.auth.backend``). Raising there would
    reach the client as an HTTP error outside GraphQL's error format, so the context records
    ``auth_error`` and falls back to the anonymous viewer; this extension then replaces the
    operation's result before any resolver runs. A client that presents a wrong, expired or
    revoked token therefore learns so at once, instead of silently reading as anonymous.
    """

    def on_execute(self) -> Iterator[None]:
        error = context_of(self.execution_context).auth_error
        if error is not None:
            # Setting the result before yielding tells strawberry to skip execution.
            self.execution_context.result = GraphQLExecutionResult(
                data=None,
                errors=[GraphQLError(error.message, extensions={"code": error.code})],
            )
        yield
