"""The CMS's one exception tree. Services raise these; the GraphQL layer maps them to codes.

CMSError
├── InvalidInput      BAD_USER_INPUT  (carries the offending field)
├── NotFound          NOT_FOUND
├── Conflict          CONFLICT
├── Unauthenticated   UNAUTHENTICATED
└── PermissionDenied  FORBIDDEN
"""

from __future__ import annotations


class CMSError(Exception):
    """Base class: an expected failure whose message is safe to show to the client."""

    code = "INTERNAL_SERVER_ERROR"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidInput(CMSError):
    """Raised when an argument or an input value is malformed or out of range."""

    code = "BAD_USER_INPUT"


class NotFound(CMSError):
    """Raised when the requested object does not exist or is not visible to the viewer."""

    code = "NOT_FOUND"


class Conflict(CMSError):
    """Raised when a write collides with the current state (stale version, taken slug)."""

    code = "CONFLICT"


class Unauthenticated(CMSError):
    """Raised when an operation needs credentials and none (or invalid ones) were given."""

    code = "UNAUTHENTICATED"


class PermissionDenied(CMSError):
    """Raised when the viewer is known but lacks the permission the operation needs."""

    code = "FORBIDDEN"
