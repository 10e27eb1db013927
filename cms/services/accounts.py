"""Accounts: creating authors, signing in and out, API tokens, roles and profiles.

Authorisation for whole operations (``users.manage`` to create users, say) is checked by the
caller before it calls in: the GraphQL layer through its permission classes, while the CLI is
trusted as the machine's operator. Rules that depend on the objects involved (whose token this
is, whose role is changing) are checked here, against the acting ``Viewer``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from tortoise.exceptions import IntegrityError
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from cms.auth.passwords import MAX_PASSWORD_LENGTH, PasswordHashing, check_password_rules
from cms.auth.throttle import LoginThrottle
from cms.auth.tokens import IssuedToken, issue_token
from cms.auth.viewer import Viewer
from cms.errors import (
    Conflict,
    InvalidInput,
    NotFound,
    PermissionDenied,
    Throttled,
    Unauthenticated,
)
from cms.models import ApiToken, Author, Role, TokenKind
from cms.permissions import Permission
from cms.services.slugs import insert_with_free_slug, slug_base
from cms.services.validation import Problems

MAX_NAME_LENGTH = 200
MAX_BIO_LENGTH = 5000
MAX_EMAIL_LENGTH = 254
MAX_TOKEN_NAME_LENGTH = 100
DEFAULT_API_TOKEN_LIFETIME = timedelta(days=90)
MAX_API_TOKEN_LIFETIME = timedelta(days=365)
# One message for every failed login, so that the answer never reveals which accounts exist.
INVALID_LOGIN = "Invalid email or password."
SESSION_TOKEN_NAME = "session"  # noqa: S105 - a label, not a secret

__all__ = [
    "DEFAULT_API_TOKEN_LIFETIME",
    "INVALID_LOGIN",
    "MAX_API_TOKEN_LIFETIME",
    "SignedIn",
    "api_tokens",
    "count_password_attempt",
    "create_api_token",
    "create_user",
    "list_users",
    "log_in",
    "log_out",
    "normalize_email",
    "revoke_api_token",
    "update_profile",
    "update_user_role",
]


@dataclass(frozen=True)
class SignedIn:
    """A successful login: the author and the session token issued for them."""

    author: Author
    session: IssuedToken


def normalize_email(email: str) -> str:
    """Email addresses are compared and stored trimmed and lowercased."""
    return email.strip().lower()


def _check_email(problems: Problems, email: str) -> None:
    problems.text(email, field="email", max_length=MAX_EMAIL_LENGTH, required=True)
    local, at, domain = email.partition("@")
    if email and (
        not (local and at and domain) or "@" in domain or any(c.isspace() for c in email)
    ):
        problems.invalid("email", f"{email[:100]!r} is not an email address.")


async def create_user(
    *, email: str, name: str, role: Role, password: str, hashing: PasswordHashing
) -> Author:
    """A new author who can log in. Callers must hold ``users.manage`` (or be the CLI)."""
    email = normalize_email(email)
    name = name.strip()
    problems = Problems()
    _check_email(problems, email)
    problems.text(name, field="name", max_length=MAX_NAME_LENGTH, required=True)
    try:
        check_password_rules(password)
    except InvalidInput as error:
        problems.add(error)
    problems.raise_if_any()
    if await Author.filter(email=email).exists():
        raise Conflict(f"An account with the email {email!r} already exists.", field="email")
    # Hash before choosing the slug, so that the slug is taken as close to the insert as possible.
    password_hash = await hashing.hash(password)

    async def insert(slug: str) -> Author:
        return await Author.create(
            email=email, name=name, slug=slug, role=role, password_hash=password_hash
        )

    try:
        async with in_transaction():
            return await insert_with_free_slug(Author, slug_base(name), insert)
    except IntegrityError as exc:
        # Another request created the same email since the checks.
        raise Conflict(
            f"An account with the email {email!r} already exists.", field="email"
        ) from exc


async def log_in(
    *,
    email: str,
    password: str,
    client_address: str,
    client_key: str,
    throttle: LoginThrottle,
    hashing: PasswordHashing,
    session_lifetime: timedelta,
    now: datetime,
    user_agent: str = "",
) -> SignedIn:
    """Check a password and issue a session token.

    Raises ``Throttled`` (before any hashing) when the client address, or it on this account,
    has made too many attempts (see :mod:`cms.auth.throttle`), and ``Unauthenticated`` with the
    same message whether the email is unknown, the password wrong or the account deactivated.
    """
    email = normalize_email(email)
    await count_password_attempt(throttle, account=email, client_key=client_key)
    if len(password) > MAX_PASSWORD_LENGTH:
        await throttle.failed(email)
        raise Unauthenticated(INVALID_LOGIN)
    # An address no column could hold (or with NUL, which PostgreSQL refuses) names nobody.
    plausible = len(email) <= MAX_EMAIL_LENGTH and "\x00" not in email
    author = await Author.get_or_none(email=email) if plausible else None
    # Unknown accounts are checked against a decoy hash: failing takes as long either way.
    verification = await hashing.check(author.password_hash if author else None, password)
    if author is None or not author.is_active or not verification.matches:
        await throttle.failed(email)
        raise Unauthenticated(INVALID_LOGIN)
    await throttle.succeeded(email, client_key)
    if verification.needs_rehash:
        # The only moment the plain password is at hand to upgrade the stored hash.
        author.password_hash = await hashing.hash(password)
        await author.save(update_fields=["password_hash"])
    session = await issue_token(
        author_id=author.id,
        kind=TokenKind.SESSION,
        name=SESSION_TOKEN_NAME,
        expires_at=now + session_lifetime,
        user_agent=user_agent,
        client_address=client_address,
    )
    return SignedIn(author=author, session=session)


async def count_password_attempt(throttle: LoginThrottle, *, account: str, client_key: str) -> None:
    """Count one password guess on ``account`` by the client ``client_key`` names (see
    :mod:`cms.auth.throttle`); ``Throttled`` when it must wait."""
    wait = await throttle.attempt(account, client_key)
    if wait > 0:
        seconds = max(1, math.ceil(wait))
        raise Throttled(
            f"Too many login attempts. Try again in {seconds} seconds.", retry_after=seconds
        )


async def log_out(actor: Viewer, *, now: datetime) -> None:
    """Revoke the session token the request was made with."""
    token = await ApiToken.get_or_none(id=actor.token_id) if actor.token_id else None
    if token is None:
        raise Unauthenticated("You are not signed in.")
    if token.kind != TokenKind.SESSION:
        raise InvalidInput(
            "`logout` ends sessions; this request used an API token: revoke it with "
            "`revokeApiToken` instead."
        )
    await ApiToken.filter(id=token.id, revoked_at__isnull=True).update(revoked_at=now)


async def create_api_token(
    actor: Viewer,
    *,
    name: str,
    scopes: Sequence[str],
    expires_at: datetime | None,
    now: datetime,
) -> IssuedToken:
    """A new API token for the actor, limited to ``scopes``; its secret is returned once.

    A token may carry only permissions the actor holds right now, so that a narrowly scoped
    token cannot mint a broader one.
    """
    name = name.strip()
    problems = Problems()
    problems.text(name, field="name", max_length=MAX_TOKEN_NAME_LENGTH, required=True)
    granted = _check_scopes(problems, scopes, held=actor.permissions)
    expires_at = now + DEFAULT_API_TOKEN_LIFETIME if expires_at is None else expires_at
    _check_expiry(problems, expires_at, now=now)
    problems.raise_if_any()
    assert actor.author_id is not None  # noqa: S101 - callers require a signed-in actor
    return await issue_token(
        author_id=actor.author_id,
        kind=TokenKind.API,
        name=name,
        scopes=granted,
        expires_at=expires_at,
    )


def _check_scopes(
    problems: Problems, scopes: Sequence[str], *, held: frozenset[Permission]
) -> list[str]:
    if not scopes:
        problems.invalid("scopes", "Name at least one permission the token grants.")
    known = {permission.value for permission in Permission}
    granted: list[str] = []
    for index, scope in enumerate(scopes):
        if scope not in known:
            problems.invalid(f"scopes.{index}", f"{scope[:100]!r} is not a permission.")
        elif Permission(scope) not in held:
            problems.invalid(f"scopes.{index}", f"You do not hold the `{scope}` permission.")
        elif scope not in granted:
            granted.append(scope)
    return granted


def _check_expiry(problems: Problems, expires_at: datetime, *, now: datetime) -> None:
    if expires_at.tzinfo is None:
        problems.invalid("expiresAt", "`expiresAt` must include a time zone offset.")
    elif expires_at <= now:
        problems.invalid("expiresAt", "`expiresAt` must be in the future.")
    elif expires_at > now + MAX_API_TOKEN_LIFETIME:
        problems.invalid(
            "expiresAt", f"`expiresAt` must be at most {MAX_API_TOKEN_LIFETIME.days} days away."
        )


def api_tokens(actor: Viewer, *, everyone: bool = False) -> QuerySet[ApiToken]:
    """The actor's API tokens, or everyone's for those who manage users."""
    queryset = ApiToken.filter(kind=TokenKind.API)
    if everyone:
        if not actor.can(Permission.USERS_MANAGE):
            raise PermissionDenied("Listing everyone's tokens needs the `users.manage` permission.")
        return queryset
    return queryset.filter(author_id=actor.author_id)


async def revoke_api_token(actor: Viewer, *, token_id: int, now: datetime) -> ApiToken:
    """Revoke one of the actor's API tokens (anyone's, for those who manage users).

    Revoking a revoked token changes nothing and is not an error.
    """
    token = await ApiToken.get_or_none(id=token_id, kind=TokenKind.API)
    mine = token is not None and token.author_id == actor.author_id
    if token is None or not (mine or actor.can(Permission.USERS_MANAGE)):
        # Other people's tokens are reported missing: their ids reveal nothing.
        raise NotFound(f"There is no API token with id {token_id} of yours.", field="id")
    if token.revoked_at is None:
        await ApiToken.filter(id=token.id, revoked_at__isnull=True).update(revoked_at=now)
        await token.refresh_from_db(fields=["revoked_at"])
    return token


async def update_user_role(actor: Viewer, *, author_id: int, role: Role) -> Author:
    """Give an author another role. Needs ``users.manage``; nobody changes their own role."""
    if not actor.can(Permission.USERS_MANAGE):
        raise PermissionDenied("Changing roles needs the `users.manage` permission.")
    if author_id == actor.author_id:
        # Otherwise the last admin could demote themselves and leave nobody able to undo it.
        raise InvalidInput("You cannot change your own role.", field="id")
    author = await Author.get_or_none(id=author_id)
    if author is None:
        raise NotFound(f"There is no author with id {author_id}.", field="id")
    if author.role != role:
        author.role = role
        await author.save(update_fields=["role"])
    return author


async def update_profile(actor: Viewer, *, name: str | None, bio: str | None) -> Author:
    """Change the actor's own name and bio; None leaves a field as it is.

    The slug stays as it was, so that links to the author's page keep working.
    """
    if not actor.can(Permission.PROFILE_EDIT_OWN):
        raise PermissionDenied("Editing a profile needs the `profile.edit_own` permission.")
    problems = Problems()
    name = name.strip() if name is not None else None
    problems.text(name, field="name", max_length=MAX_NAME_LENGTH, required=True)
    problems.text(bio, field="bio", max_length=MAX_BIO_LENGTH)
    problems.raise_if_any()
    author = await Author.get_or_none(id=actor.author_id)
    if author is None:
        raise Unauthenticated("Your account no longer exists.")
    changed = {"name": name, "bio": bio}
    fields = [field for field, value in changed.items() if value is not None]
    for field in fields:
        setattr(author, field, changed[field])
    if fields:
        await author.save(update_fields=fields)
    return author


async def list_users() -> list[Author]:
    """Every author, by name."""
    return await Author.all().order_by("name", "id")
