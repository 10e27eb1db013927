"""The end of an account's credentials: deactivation, reactivation, password change and reset.

``actor`` is the viewer asking, or None for the machine's operator (the ``cms user`` commands),
who is trusted like the CLI's other commands. The rules that protect the site hold for both:
nobody deactivates themself, and the last active admin stays active.

What ends what:

- deactivating an account revokes every session and API token it has and every preview token
  it issued, in one transaction; the bearer check also refuses any token of an inactive author,
  so nothing it issued works from the next request on. Reactivating brings none of them back.
- changing one's password ends the author's other sessions and keeps the one it was made from.
  API tokens stay: they are separate credentials for scripts, listed and revoked on their own.
- resetting a password (``cms user reset-password``) ends every session of the author.
"""

from __future__ import annotations

from datetime import datetime

from tortoise.transactions import in_transaction

from cms.auth.passwords import MAX_PASSWORD_LENGTH, PasswordHashing, check_password_rules
from cms.auth.throttle import LoginThrottle
from cms.auth.viewer import Viewer
from cms.errors import Conflict, InvalidInput, NotFound, PermissionDenied, Unauthenticated
from cms.models import Author, PreviewToken, Role, TokenKind
from cms.services.accounts import count_password_attempt, normalize_email
from cms.services.sessions import end_tokens, may_manage_users

__all__ = [
    "change_password",
    "deactivate_user",
    "find_user",
    "reactivate_user",
    "reset_password",
]


async def find_user(email: str) -> Author:
    """The author with ``email`` (compared trimmed and lowercased); NOT_FOUND otherwise."""
    author = await Author.get_or_none(email=normalize_email(email))
    if author is None:
        raise NotFound(f"There is no account with the email {email.strip()[:254]!r}.")
    return author


def _require_manager(actor: Viewer | None, doing: str) -> None:
    if not may_manage_users(actor):
        raise PermissionDenied(f"{doing} needs the `users.manage` permission.")


async def deactivate_user(actor: Viewer | None, *, author_id: int, now: datetime) -> Author:
    """Stop ``author_id`` from signing in and end every credential they hold, at once.

    Deactivating an inactive account changes nothing further and is not an error.
    """
    _require_manager(actor, "Deactivating accounts")
    if actor is not None and author_id == actor.author_id:
        raise InvalidInput("You cannot deactivate your own account.", field="id")
    async with in_transaction():
        # Locks the active admins' rows (PostgreSQL; SQLite runs one writer at a time), so that
        # two admins deactivating each other at once cannot leave the site with none.
        # Whole rows: Tortoise drops FOR UPDATE from `.values()` queries. Admins are few.
        admins = [
            admin.id
            for admin in await Author.filter(role=Role.ADMIN, is_active=True).select_for_update()
        ]
        author = await Author.get_or_none(id=author_id)
        if author is None:
            raise NotFound(f"There is no author with id {author_id}.", field="id")
        if admins == [author.id]:
            raise Conflict(
                "This is the last active admin: make another author an admin first.", field="id"
            )
        if author.is_active:
            author.is_active = False
            await author.save(update_fields=["is_active"])
        await end_tokens(author.id, now=now, kinds=tuple(TokenKind))
        await PreviewToken.filter(created_by_id=author.id, revoked_at__isnull=True).update(
            revoked_at=now
        )
    return author


async def reactivate_user(actor: Viewer | None, *, author_id: int) -> Author:
    """Let a deactivated author sign in again. Their old tokens stay revoked."""
    _require_manager(actor, "Reactivating accounts")
    author = await Author.get_or_none(id=author_id)
    if author is None:
        raise NotFound(f"There is no author with id {author_id}.", field="id")
    if not author.is_active:
        author.is_active = True
        await author.save(update_fields=["is_active"])
    return author


async def change_password(
    actor: Viewer,
    *,
    current_password: str,
    new_password: str,
    hashing: PasswordHashing,
    throttle: LoginThrottle,
    client_key: str,
    now: datetime,
) -> int:
    """Replace the actor's password; returns how many of their other sessions it ended.

    The current password is required, so that a stolen session alone cannot take the account
    over; each try counts against the account's login throttle, like a login does.
    """
    author = await Author.get_or_none(id=actor.author_id, is_active=True)
    if author is None:
        raise Unauthenticated("Your account no longer exists or was deactivated.")
    await count_password_attempt(throttle, account=author.email, client_key=client_key)
    check_password_rules(new_password, field="newPassword")
    verification = await hashing.check(
        author.password_hash if len(current_password) <= MAX_PASSWORD_LENGTH else None,
        current_password,
    )
    if not verification.matches:
        await throttle.failed(author.email)
        raise InvalidInput("The current password is not right.", field="currentPassword")
    password_hash = await hashing.hash(new_password)
    async with in_transaction():
        await Author.filter(id=author.id).update(password_hash=password_hash)
        return await end_tokens(author.id, now=now, keep=actor.token_id)


async def reset_password(
    email: str, *, password: str, hashing: PasswordHashing, now: datetime
) -> tuple[Author, int]:
    """Give ``email``'s account a new password and end all its sessions (the operator's tool).

    Returns the author and how many sessions ended.
    """
    check_password_rules(password)
    author = await find_user(email)
    password_hash = await hashing.hash(password)
    async with in_transaction():
        await Author.filter(id=author.id).update(password_hash=password_hash)
        ended = await end_tokens(author.id, now=now)
    return author, ended
