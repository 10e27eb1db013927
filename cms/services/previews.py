"""Preview tokens: let an anonymous frontend read one post's current draft for a while.

``create_preview_token`` returns a random secret once; only its SHA-256 digest is stored. A
request presenting the secret (the ``X-Preview-Token`` header) may read that one post, whatever
its status, until the token expires. It opens nothing else: other drafts stay hidden and
published content reads as usual. Trashed posts stay hidden even from their preview tokens.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from cms.auth.viewer import Viewer
from cms.errors import InvalidInput
from cms.models import PreviewToken
from cms.permissions import Permission
from cms.services.editing import Clock, find_post, require_on_post, utc_now

PREFIX = "cms_preview_"
MAX_LIFETIME = timedelta(days=7)
# Generous for a real secret, and a bound on what the header lookup ever hashes.
MAX_TOKEN_LENGTH = 200


@dataclass(frozen=True)
class IssuedPreviewToken:
    """A new token: ``secret`` is shown this once and cannot be recovered later."""

    secret: str
    row: PreviewToken


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


async def create_preview_token(
    viewer: Viewer, *, post_id: int, expires_in: int, clock: Clock = utc_now
) -> IssuedPreviewToken:
    """A token to read ``post_id`` for ``expires_in`` seconds (at most 7 days).

    Whoever may read the post's drafts may share them: its author, editors and admins.
    """
    post = await find_post(post_id)
    require_on_post(
        viewer, post, Permission.POSTS_READ_OWN_DRAFTS, Permission.POSTS_READ_ANY_DRAFTS
    )
    if not 1 <= expires_in <= MAX_LIFETIME.total_seconds():
        raise InvalidInput(
            f"`expiresIn` must be between 1 and {int(MAX_LIFETIME.total_seconds())} seconds "
            "(7 days).",
            field="expiresIn",
        )
    secret = PREFIX + secrets.token_urlsafe(32)
    row = await PreviewToken.create(
        post_id=post.id,
        digest=digest(secret),
        created_by_id=viewer.author_id,
        expires_at=clock() + timedelta(seconds=expires_in),
    )
    return IssuedPreviewToken(secret=secret, row=row)


async def previewed_post_ids(secret: str | None, *, now: datetime) -> frozenset[int]:
    """The posts ``secret`` opens right now: one post, or none if it is unknown or expired."""
    if not secret or len(secret) > MAX_TOKEN_LENGTH or not secret.startswith(PREFIX):
        return frozenset()
    rows = await PreviewToken.filter(digest=digest(secret), expires_at__gt=now).values("post_id")
    return frozenset(row["post_id"] for row in rows)
