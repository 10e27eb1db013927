"""Sign-in sessions: listing them and ending them, one at a time or all of an author's at once.

A session is an ``ApiToken`` of kind ``SESSION`` (issued by ``login``). Ending one sets its
``revoked_at``; the bearer check (``cms.auth.tokens.find_active_token``) refuses it from the
next request on, since every request looks its token up afresh.

Everyone may see and end their own sessions (``sessions.manage_own``); those who manage users
(``users.manage``) may see and end anyone's. Other people's session ids are reported missing to
everyone else, so that an id reveals nothing.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from tortoise.queryset import QuerySet

from cms.auth.viewer import Viewer
from cms.errors import NotFound, PermissionDenied
from cms.models import ApiToken, TokenKind
from cms.permissions import Permission

__all__ = ["end_tokens", "may_manage_users", "revoke_session", "sessions_of"]


def may_manage_users(actor: Viewer | None) -> bool:
    """Whether ``actor`` holds ``users.manage``; None stands for the operator (the CLI)."""
    return actor is None or actor.can(Permission.USERS_MANAGE)


def sessions_of(
    actor: Viewer | None, *, author_id: int | None, now: datetime
) -> QuerySet[ApiToken]:
    """The open (unrevoked, unexpired) sessions of ``author_id``, the actor's own by default."""
    mine = actor.author_id if actor is not None else None
    author_id = mine if author_id is None else author_id
    if author_id != mine and not may_manage_users(actor):
        raise PermissionDenied("Listing other people's sessions needs `users.manage`.")
    return ApiToken.filter(
        author_id=author_id, kind=TokenKind.SESSION, revoked_at__isnull=True, expires_at__gt=now
    )


async def revoke_session(
    actor: Viewer | None, *, session_id: int, now: datetime, owner_id: int | None = None
) -> ApiToken:
    """End one of the actor's sessions (anyone's, for those who manage users).

    ``owner_id``, when given, is whose session it must be. Ending an ended session changes
    nothing and is not an error.
    """
    session = await ApiToken.get_or_none(id=session_id, kind=TokenKind.SESSION)
    mine = session is not None and actor is not None and session.author_id == actor.author_id
    if (
        session is None
        or not (mine or may_manage_users(actor))
        or owner_id not in (None, session.author_id)
    ):
        raise NotFound(f"There is no session with id {session_id}.", field="id")
    if session.revoked_at is None:
        await ApiToken.filter(id=session.id, revoked_at__isnull=True).update(revoked_at=now)
        await session.refresh_from_db(fields=["revoked_at"])
    return session


async def end_tokens(
    author_id: int,
    *,
    now: datetime,
    kinds: Collection[TokenKind] = (TokenKind.SESSION,),
    keep: int | None = None,
) -> int:
    """Revoke every live token of ``author_id`` of the given kinds, except ``keep``.

    One UPDATE, so that no token of the set survives a concurrent request. Returns how many
    tokens it ended.
    """
    tokens = ApiToken.filter(author_id=author_id, kind__in=list(kinds), revoked_at__isnull=True)
    if keep is not None:
        tokens = tokens.exclude(id=keep)
    return await tokens.update(revoked_at=now)
