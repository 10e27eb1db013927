"""Bearer tokens: random secrets shown once, stored only as their SHA-256 digest.

A secret looks like ``cms_`` followed by 43 URL-safe characters (32 random bytes). The prefix
makes leaked tokens easy to recognise (secret scanners, logs); the first few characters are kept
in clear as ``ApiToken.prefix`` so that people can tell their tokens apart. A fast hash is
enough for the digest: unlike a password, the secret has 256 bits of entropy, so there is
nothing to brute-force, and a lookup by digest stays a single indexed query per request.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from cms.models import ApiToken, TokenKind
from cms.models.accounts import CLIENT_ADDRESS_LENGTH, USER_AGENT_LENGTH

TOKEN_PREFIX = "cms_"  # noqa: S105 - a marker, not a secret
# "cms_" and 8 characters of the random part: enough to tell tokens apart, useless to guess.
DISPLAY_PREFIX_LENGTH = len(TOKEN_PREFIX) + 8
_SECRET_LENGTH = len(TOKEN_PREFIX) + 43
# Writing last_used_at on every request would turn each read into a write; a minute is precise
# enough to tell whether a token is still in use.
LAST_USED_PRECISION = timedelta(minutes=1)

__all__ = [
    "DISPLAY_PREFIX_LENGTH",
    "TOKEN_PREFIX",
    "IssuedToken",
    "digest_of",
    "find_active_token",
    "issue_token",
    "new_secret",
    "record_use",
]


@dataclass(frozen=True)
class IssuedToken:
    """A token just created: the only moment its secret is known."""

    secret: str
    token: ApiToken


def new_secret() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def digest_of(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


async def issue_token(
    *,
    author_id: int,
    kind: TokenKind,
    name: str,
    expires_at: datetime,
    scopes: list[str] | None = None,
    user_agent: str = "",
    client_address: str = "",
) -> IssuedToken:
    """Store a new token for ``author_id`` and return it with its secret.

    ``user_agent`` and ``client_address`` (of a login) are cut to fit their columns.
    """
    secret = new_secret()
    token = await ApiToken.create(
        author_id=author_id,
        kind=kind,
        name=name,
        prefix=secret[:DISPLAY_PREFIX_LENGTH],
        digest=digest_of(secret),
        scopes=scopes or [],
        expires_at=expires_at,
        user_agent=_printable(user_agent)[:USER_AGENT_LENGTH],
        client_address=_printable(client_address)[:CLIENT_ADDRESS_LENGTH],
    )
    return IssuedToken(secret=secret, token=token)


def _printable(text: str) -> str:
    # A client chooses its User-Agent: control characters (terminal escapes, newlines) would
    # reach the screens and logs of the people who list sessions (`cms user sessions`).
    return "".join(char for char in text if char.isprintable())


async def find_active_token(secret: str, *, now: datetime) -> ApiToken | None:
    """The unexpired, unrevoked token of an active author whose secret is ``secret``.

    The token's author is fetched along with it.
    """
    # Anything that cannot be one of our secrets is turned away without a query.
    if not secret.startswith(TOKEN_PREFIX) or len(secret) != _SECRET_LENGTH:
        return None
    token = (
        await ApiToken.filter(digest=digest_of(secret), revoked_at__isnull=True, expires_at__gt=now)
        .select_related("author")
        .first()
    )
    if token is None or not token.author.is_active:
        return None
    return token


async def record_use(token: ApiToken, *, now: datetime) -> None:
    """Note that ``token`` was used at ``now`` (at most one write per token a minute)."""
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_PRECISION:
        token.last_used_at = now
        await ApiToken.filter(id=token.id).update(last_used_at=now)
