"""Preview tokens: let an anonymous frontend read one post's current draft for a while.

``create_preview_token`` returns a random secret once; only its SHA-256 digest is stored. A
request presenting the secret (the ``X-Preview-Token`` header) may read that one post, whatever
its status, until the token expires or is revoked. It opens nothing else: other drafts stay
hidden and published content reads as usual. Trashed posts stay hidden even from their preview
tokens.

A token acts for the author who issued it and only while that author could still issue it: it
stops working when they are deactivated, lose the role that let them read the post's drafts,
or are no longer the post's author after it was handed to someone else.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from tortoise.queryset import QuerySet

from cms.auth.viewer import Viewer
from cms.errors import InvalidInput, NotFound, PermissionDenied, Unauthenticated
from cms.models import PreviewToken, Role
from cms.permissions import Permission
from cms.services.editing import Clock, find_post, require_on_post, utc_now

PREFIX = "cms_preview_"
MAX_LIFETIME = timedelta(days=7)
# Generous for a real secret, and a bound on what the header lookup ever hashes.
MAX_TOKEN_LENGTH = 200
# Who may issue a post's tokens (and whose tokens keep working): those who may read its drafts.
_MAY_SHARE = (Permission.POSTS_READ_OWN_DRAFTS, Permission.POSTS_READ_ANY_DRAFTS)
# Who may list and revoke them: those who may edit the post.
_MAY_EDIT = (Permission.POSTS_EDIT_OWN, Permission.POSTS_EDIT_ANY)


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
    require_on_post(viewer, post, *_MAY_SHARE)
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
    """The posts ``secret`` opens right now: one post, or none.

    None when the token is unknown, expired or revoked, and none when the author who issued it
    could no longer issue it: deactivated, demoted, or no longer the post's author (the post was
    handed to someone else). A token lends its issuer's access; it never outlives it.
    """
    if not secret or len(secret) > MAX_TOKEN_LENGTH or not secret.startswith(PREFIX):
        return frozenset()
    rows = await PreviewToken.filter(
        digest=digest(secret),
        expires_at__gt=now,
        revoked_at__isnull=True,
        created_by__is_active=True,
    ).values("post_id", "post__author_id", "created_by_id", "created_by__role")
    return frozenset(
        row["post_id"]
        for row in rows
        if Viewer(author_id=row["created_by_id"], role=Role(row["created_by__role"])).can_on_post(
            *_MAY_SHARE, post_author_id=row["post__author_id"]
        )
    )


def preview_tokens_of(viewer: Viewer, *, post_id: int, author_id: int) -> QuerySet[PreviewToken]:
    """Every preview token of a post (revoked and expired ones too), for those who may edit it.

    ``author_id`` is the post's author, known to the caller, so that no query is needed to
    refuse.
    """
    _require_editor(viewer, post_id=post_id, author_id=author_id)
    return PreviewToken.filter(post_id=post_id)


async def revoke_preview_token(
    viewer: Viewer, *, token_id: int, clock: Clock = utc_now
) -> PreviewToken:
    """Stop a preview token from working, for those who may edit its post.

    Revoking a revoked token changes nothing and is not an error.
    """
    token = await PreviewToken.get_or_none(id=token_id).select_related("post")
    if token is None:
        raise NotFound(f"There is no preview token with id {token_id}.", field="id")
    _require_editor(viewer, post_id=token.post_id, author_id=token.post.author_id)
    if token.revoked_at is None:
        await PreviewToken.filter(id=token.id, revoked_at__isnull=True).update(revoked_at=clock())
        await token.refresh_from_db(fields=["revoked_at"])
    return token


def _require_editor(viewer: Viewer, *, post_id: int, author_id: int) -> None:
    if not viewer.is_authenticated:
        raise Unauthenticated("You must be signed in to do this.")
    if not viewer.can_on_post(*_MAY_EDIT, post_author_id=author_id):
        raise PermissionDenied(
            f"Only those who may edit post {post_id} may see or revoke its preview tokens."
        )
