"""The CMS's error codes and its one exception tree.

Every code a client can meet, from a service, from GraphQL or from the HTTP transport, is a
member of :class:`ErrorCode`; nothing else spells one. Services raise the exceptions below;
``cms.graphql.errors`` turns them into GraphQL errors and ``cms.web.responses`` gives each code
its HTTP status. The tree (``tests/test_errors.py`` holds it to every subclass in ``cms``)::

    CMSError                  INTERNAL_SERVER_ERROR (never raised itself)
    ├── InvalidInput          BAD_USER_INPUT (carries the offending field)
    │   ├── ValidationFailed  one problem per invalid field (``problems``)
    │   ├── UnsafeURL         a webhook URL that is not public http(s)
    │   ├── FileProblem       cms.content.files: a file that cannot be read
    │   ├── PlainTextError    cms.content.plaintext: a malformed plain-text export
    │   └── ExportInvalid     cms.content.jsonimport: a malformed JSON export
    ├── NotFound              NOT_FOUND
    ├── Conflict              CONFLICT
    │   ├── VersionConflict   a write that names a version the post has left
    │   ├── SlugTaken         a slug another post or tag holds
    │   └── ImportConflict    cms.content.importer: a post changed during an import
    ├── Unauthenticated       UNAUTHENTICATED
    ├── PermissionDenied      FORBIDDEN
    ├── Throttled             THROTTLED (carries the seconds to wait)
    │   └── RevisionQuotaExceeded  an author's hourly revision storage is spent
    └── ServiceUnavailable    SERVICE_UNAVAILABLE (the database could not serve in time)

The subclasses named with a module live there, beside the file formats they describe; the
rest live here.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum


class ErrorCode(StrEnum):
    """``extensions.code`` of every error the CMS answers with: stable, machine-readable."""

    # Raised by services (the tree above).
    BAD_USER_INPUT = "BAD_USER_INPUT"
    NOT_FOUND = "NOT_FOUND"
    CONFLICT = "CONFLICT"
    UNAUTHENTICATED = "UNAUTHENTICATED"
    FORBIDDEN = "FORBIDDEN"
    THROTTLED = "THROTTLED"
    SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"
    INTERNAL_SERVER_ERROR = "INTERNAL_SERVER_ERROR"
    # GraphQL's own refusals of a document.
    GRAPHQL_PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
    GRAPHQL_VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
    # Limits on what one operation may ask for, and on how long it may run.
    QUERY_TOO_DEEP = "QUERY_TOO_DEEP"
    TOO_MANY_ALIASES = "TOO_MANY_ALIASES"
    QUERY_TOO_LARGE = "QUERY_TOO_LARGE"
    QUERY_TOO_COMPLEX = "QUERY_TOO_COMPLEX"
    TIMEOUT = "TIMEOUT"
    RATE_LIMITED = "RATE_LIMITED"
    # The HTTP transport's refusals, before any GraphQL runs.
    BAD_REQUEST = "BAD_REQUEST"
    BATCHING_NOT_SUPPORTED = "BATCHING_NOT_SUPPORTED"
    PAYLOAD_TOO_LARGE = "PAYLOAD_TOO_LARGE"
    UNSUPPORTED_MEDIA_TYPE = "UNSUPPORTED_MEDIA_TYPE"
    # Automatic persisted queries (the names Apollo's clients look for).
    PERSISTED_QUERY_NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"
    PERSISTED_QUERY_NOT_SUPPORTED = "PERSISTED_QUERY_NOT_SUPPORTED"
    # Subscriptions are served over WebSocket only.
    SUBSCRIPTION_OVER_HTTP = "SUBSCRIPTION_OVER_HTTP"


# What a client sees of an unexpected failure, beside an error id that finds it in the logs.
INTERNAL_ERROR_MESSAGE = "Internal server error"


class CMSError(Exception):
    """Base class: an expected failure whose message is safe to show to the client."""

    code = ErrorCode.INTERNAL_SERVER_ERROR

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidInput(CMSError):
    """Raised when an argument or an input value is malformed or out of range."""

    code = ErrorCode.BAD_USER_INPUT


class ValidationFailed(InvalidInput):
    """Raised when one or more input fields are invalid; ``problems`` holds one error each."""

    def __init__(self, problems: Sequence[CMSError]) -> None:
        first = problems[0]
        super().__init__(first.message, field=first.field)
        self.problems = list(problems)


class UnsafeURL(InvalidInput):
    """Raised when a webhook URL is malformed, not http(s), or reaches a non-public address."""

    def __init__(self, message: str) -> None:
        super().__init__(message, field="url")


class NotFound(CMSError):
    """Raised when the requested object does not exist or is not visible to the viewer."""

    code = ErrorCode.NOT_FOUND


class Conflict(CMSError):
    """Raised when a write collides with the current state (stale version, taken slug)."""

    code = ErrorCode.CONFLICT


class VersionConflict(Conflict):
    """Raised when a write names a version of the post that is no longer its current one."""

    def __init__(self, *, expected: int, current: int) -> None:
        super().__init__(
            f"The post has changed since version {expected}; it is now at version {current}. "
            "Reload it and apply your change to the current version.",
            field="expectedVersion",
        )
        self.current_version = current


class SlugTaken(Conflict):
    """Raised when a slug is already used by another post or tag (trashed posts included)."""

    def __init__(self, slug: str, *, field: str = "slug") -> None:
        super().__init__(f"The slug {slug!r} is already taken.", field=field)


class Unauthenticated(CMSError):
    """Raised when an operation needs credentials and none (or invalid ones) were given."""

    code = ErrorCode.UNAUTHENTICATED


class PermissionDenied(CMSError):
    """Raised when the viewer is known but lacks the permission the operation needs."""

    code = ErrorCode.FORBIDDEN


class Throttled(CMSError):
    """Raised when a caller has made too many attempts (logins) and must wait before the next."""

    code = ErrorCode.THROTTLED

    def __init__(self, message: str, *, retry_after: int, field: str | None = None) -> None:
        super().__init__(message, field=field)
        self.retry_after = retry_after


class RevisionQuotaExceeded(Throttled):
    """Raised when a change would take its author past their hourly revision storage."""

    def __init__(self, *, limit: int, retry_after: int) -> None:
        super().__init__(
            f"This change would take the revisions you stored in the last hour past {limit} "
            f"bytes, the most allowed. Try again in {retry_after} seconds.",
            retry_after=retry_after,
        )


class ServiceUnavailable(CMSError):
    """Raised when the database cannot serve the request in time (pool exhausted, server down).

    Transient by nature: the client may retry after ``retry_after`` seconds.
    """

    code = ErrorCode.SERVICE_UNAVAILABLE

    def __init__(self, message: str, *, retry_after: int = 1) -> None:
        super().__init__(message)
        self.retry_after = retry_after
