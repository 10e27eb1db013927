"""Who is making a request: the viewer named by its ``Authorization: Bearer`` header.

Only that header is read. Tokens in query strings end up in server logs, proxy logs and browser
history; tokens in cookies would make every mutation open to cross-site request forgery. A
request with neither is simply anonymous.

A header that is present but malformed, or names an unknown, expired or revoked token, or the
token of a deactivated author, raises ``Unauthenticated``: such a client believes it is signed
in, so it is told at once rather than served the anonymous view.

A request's token is verified once: the verdict is kept in the request's state, for the
transport guard (which verifies before reading a large body, ``cms.web.transport``) and the
GraphQL context alike.
"""

from __future__ import annotations

from datetime import UTC, datetime

from starlette.requests import HTTPConnection

from cms.auth.tokens import find_active_token, record_use
from cms.auth.viewer import ANONYMOUS, Viewer
from cms.errors import Unauthenticated
from cms.models import ApiToken, TokenKind
from cms.permissions import Permission

__all__ = ["authenticate", "viewer_for_token"]

_SCHEME = "bearer"
_VERDICT = "authenticated_viewer"


async def authenticate(request: HTTPConnection, *, now: datetime | None = None) -> Viewer:
    """The viewer the request's bearer token names, or the anonymous viewer if it has none."""
    verdict = getattr(request.state, _VERDICT, None)
    if verdict is None:
        try:
            verdict = await _verify(request, now=now)
        except Unauthenticated as exc:
            verdict = exc
        setattr(request.state, _VERDICT, verdict)
    if isinstance(verdict, Unauthenticated):
        raise Unauthenticated(verdict.message)
    assert isinstance(verdict, Viewer)  # noqa: S101 - only viewers and refusals are kept
    return verdict


async def _verify(request: HTTPConnection, *, now: datetime | None) -> Viewer:
    header = request.headers.get("authorization")
    if header is None:
        return ANONYMOUS
    scheme, _, secret = header.strip().partition(" ")
    secret = secret.strip()
    if scheme.lower() != _SCHEME or not secret:
        raise Unauthenticated("The Authorization header must have the form `Bearer <token>`.")
    now = now or datetime.now(UTC)
    token = await find_active_token(secret, now=now)
    if token is None:
        raise Unauthenticated("The bearer token is invalid, expired or revoked.")
    await record_use(token, now=now)
    return viewer_for_token(token)


def viewer_for_token(token: ApiToken) -> Viewer:
    """The viewer a token acts for; ``token.author`` must be loaded."""
    if token.kind == TokenKind.SESSION:
        scopes = None
    else:
        known = {permission.value for permission in Permission}
        # A scope renamed or removed since the token was made grants nothing (fail closed).
        scopes = frozenset(Permission(scope) for scope in token.scopes if scope in known)
    return Viewer(
        author_id=token.author_id, role=token.author.role, token_id=token.id, scopes=scopes
    )
