"""Expected failures of mutations, returned as data in the payload's ``errors`` list.

A mutation payload carries ``errors: [UserError!]!``: empty on success, otherwise one entry per
problem (invalid input, a conflict, something not found). Missing or insufficient credentials
are not payload errors: they stay top-level errors with ``extensions.code`` (see
``cms.graphql.permissions``).

A resolver says which failures it expects and which payload reports them, and is written for
success only::

    @strawberry.mutation(...)
    @failures_as(CreateTagPayload, EXPECTED)
    async def create_tag(self, info: Info, input: CreateTagInput) -> CreateTagPayload:
        return CreateTagPayload(tag=Tag.from_model(await tags.create_tag(...)))

What is left is alike from one mutation to the next: a permission and a description, one
service call with its arguments named, a payload built from the result; and so are the
payload types, four lines each. ``duplicates`` pairs them by shape. They stay so on purpose:
naming each argument lets mypy check the call against the service, and each mutation keeps the
payload type the published schema gives it.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, ParamSpec, Self, TypeVar

import strawberry

from cms.errors import (
    CMSError,
    Conflict,
    InvalidInput,
    NotFound,
    ServiceUnavailable,
    Throttled,
    ValidationFailed,
)

__all__ = ["EXPECTED", "Payload", "UserError", "failures_as"]

Params = ParamSpec("Params")
PayloadT = TypeVar("PayloadT", bound="Payload")

# What the content mutations (posts, sections, tags, webhooks, preview tokens) report in their
# payload: every CMSError but the credential ones, a database outage (ServiceUnavailable) too.
EXPECTED = (InvalidInput, NotFound, Conflict, Throttled, ServiceUnavailable)


@strawberry.type(description="Why a mutation did not do what was asked.")
class UserError:
    code: str = strawberry.field(
        description="Stable and machine-readable: BAD_USER_INPUT, NOT_FOUND, CONFLICT, ..."
    )
    field: str | None = strawberry.field(
        description="The input field at fault, as named in the input (`sections.2.body`)."
    )
    message: str = strawberry.field(description="For people; may change between releases.")


class Payload:
    """Base of the mutation payloads: gives each one ``failure(exc)``.

    Not a GraphQL type, and ``errors`` is only annotated here: each payload declares the field
    itself, so that it stays where the schema has it (a base type's fields would come first).
    Every field of a payload needs a default, since ``failure`` sets ``errors`` alone
    (``tests/graphql/test_payloads.py`` builds the failure of each).
    """

    errors: list[UserError]

    @classmethod
    def failure(cls, exc: CMSError) -> Self:
        """The payload saying why ``exc`` stopped the mutation: one error per problem it
        carries, every other field at its default (null)."""
        problems = exc.problems if isinstance(exc, ValidationFailed) else [exc]
        payload = cls()
        payload.errors = [
            UserError(code=problem.code, field=problem.field, message=problem.message)
            for problem in problems
        ]
        return payload


def failures_as(
    payload: type[PayloadT], expected: tuple[type[CMSError], ...]
) -> Callable[
    [Callable[Params, Awaitable[PayloadT]]], Callable[Params, Coroutine[Any, Any, PayloadT]]
]:
    """Resolve to ``payload.failure(exc)`` when the resolver raises one of ``expected``.

    Anything else propagates as a top-level error. That includes the ``PermissionDenied`` of a
    per-object check, which can only run once the object is loaded, inside the service (an
    AUTHOR editing someone else's post): it reaches the client as a FORBIDDEN error, like the
    checks of the permission classes, never as data. ``functools.wraps`` keeps the resolver's
    name, docstring, annotations and (through ``__wrapped__``) signature, which is all
    Strawberry reads to build the field and its arguments.
    """

    def decorate(
        resolver: Callable[Params, Awaitable[PayloadT]],
    ) -> Callable[Params, Coroutine[Any, Any, PayloadT]]:
        @functools.wraps(resolver)
        async def resolve(*args: Params.args, **kwargs: Params.kwargs) -> PayloadT:
            try:
                return await resolver(*args, **kwargs)
            except expected as exc:
                return payload.failure(exc)

        return resolve

    return decorate
