"""Expected failures of mutations, returned as data in the payload's ``errors`` list.

A mutation payload carries ``errors: [UserError!]!``: empty on success, otherwise one entry per
problem (invalid input, a conflict, something not found). Missing or insufficient credentials
are not payload errors: they stay top-level errors with ``extensions.code`` (see
``cms.graphql.permissions``).
"""

from __future__ import annotations

import strawberry

from cms.errors import CMSError, PermissionDenied, Unauthenticated
from cms.services.editing import VersionConflict
from cms.services.validation import ValidationFailed

__all__ = ["UserError", "current_version", "payload_errors", "user_errors"]


@strawberry.type(description="Why a mutation did not do what was asked.")
class UserError:
    code: str = strawberry.field(
        description="Stable and machine-readable: BAD_USER_INPUT, NOT_FOUND, CONFLICT, ..."
    )
    field: str | None = strawberry.field(
        description="The input field at fault, as named in the input (`sections.2.body`)."
    )
    message: str = strawberry.field(description="For people; may change between releases.")


def user_errors(exc: CMSError) -> list[UserError]:
    """The payload errors ``exc`` stands for: one per problem it carries."""
    problems = exc.problems if isinstance(exc, ValidationFailed) else [exc]
    return [
        UserError(code=problem.code, field=problem.field, message=problem.message)
        for problem in problems
    ]


def payload_errors(exc: CMSError) -> list[UserError]:
    """Like ``user_errors``, but re-raises credential failures found inside a service.

    A per-object check (an AUTHOR editing someone else's post) can only run once the object is
    loaded, inside the service; its ``PermissionDenied`` must still reach the client as a
    top-level FORBIDDEN error, like the checks of the permission classes, never as data.
    """
    if isinstance(exc, Unauthenticated | PermissionDenied):
        raise exc
    return user_errors(exc)


def current_version(exc: CMSError) -> int | None:
    """The post's version a ``VersionConflict`` reports, for the payload's ``currentVersion``."""
    return exc.current_version if isinstance(exc, VersionConflict) else None
