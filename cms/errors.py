"""The CMS's one exception tree. Services raise these; the GraphQL layer maps them to codes.

CMSError
├── InvalidInput      BAD_USER_INPUT  (carries the offending field)
├── NotFound          NOT_FOUND
├── Conflict          CONFLICT
├── Unauthenticated   UNAUTHENTICATED
├── PermissionDenied  FORBIDDEN
├── Throttled         THROTTLED       (carries the seconds to wait)
└── ServiceUnavailable SERVICE_UNAVAILABLE (the database could not serve in time)
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


class Throttled(CMSError):
    """Raised when a caller has made too many attempts (logins) and must wait before the next."""

    code = "THROTTLED"

    def __init__(self, message: str, *, retry_after: int, field: str | None = None) -> None:
        super().__init__(message, field=field)
        self.retry_after = retry_after


class ServiceUnavailable(CMSError):
    """Raised when the database cannot serve the request in time (pool exhausted, server down).

    Transient by nature: the client may retry after ``retry_after`` seconds.
    """

    code = "SERVICE_UNAVAILABLE"

    def __init__(self, message: str, *, retry_after: int = 1) -> None:
        super().__init__(message)
        self.retry_after = retry_after
