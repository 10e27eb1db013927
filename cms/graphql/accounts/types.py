"""Object types of accounts: the viewer's own account, users as admins see them, API tokens.

``Me`` and ``User`` show an author's private details (email, role), which the public ``Author``
type never does. Their ``id`` is the author's global id, so ``node(id:)`` finds the public side.
The payloads at the end are alike in shape on purpose; see ``cms.graphql.payloads``.
"""

from __future__ import annotations

from datetime import UTC, datetime

import strawberry

from cms.graphql.accounts.enums import Permission, Role
from cms.graphql.context import Info
from cms.graphql.node import to_global_id
from cms.graphql.pagination import Connection, build_connection
from cms.graphql.payloads import Payload, UserError
from cms.graphql.permissions import require
from cms.graphql.posts.types import Author
from cms.graphql.rows import from_row
from cms.models import ApiToken as ApiTokenModel
from cms.models import Author as AuthorModel
from cms.services import sessions
from cms.services.pagination import SortKey

NEWEST_FIRST = SortKey((("id", True),))


def _permissions(values: list[str] | frozenset[Permission]) -> list[Permission]:
    known = {permission.value: permission for permission in Permission}
    return sorted((known[value] for value in values if value in known), key=lambda p: p.value)


@strawberry.type(description="The signed-in author's own account.")
class Me:
    id: strawberry.ID = strawberry.field(description="The same id as the public `Author`.")
    name: str
    slug: str
    email: str
    role: Role
    bio: str
    permissions: list[Permission] = strawberry.field(
        description="What this request may do: the role's permissions, narrowed by the "
        "token's scopes when it is an API token."
    )

    @classmethod
    def from_model(cls, author: AuthorModel, *, permissions: frozenset[Permission]) -> Me:
        return from_row(
            cls,
            author,
            id=to_global_id("Author", author.id),
            permissions=_permissions(permissions),
        )


@strawberry.type(
    description="A signed-in session, as issued by `login`. Its secret is never shown."
)
class Session:
    id: strawberry.ID = strawberry.field(description="Pass it to `revokeSession`.")
    created_at: datetime = strawberry.field(description="When the author signed in.")
    expires_at: datetime
    last_used_at: datetime | None = strawberry.field(
        description="When the session last authenticated a request (to the minute)."
    )
    user_agent: str = strawberry.field(
        description="The `User-Agent` of the login, cut to 255 characters; may be empty."
    )
    client_address: str = strawberry.field(
        description="The address the login came from, as the server saw it; may be empty."
    )
    current: bool = strawberry.field(description="Whether this request was made with it.")

    @classmethod
    def from_model(cls, token: ApiTokenModel, *, current_token_id: int | None) -> Session:
        return from_row(
            cls,
            token,
            id=to_global_id("Session", token.id),
            current=token.id == current_token_id,
        )


async def resolve_sessions(
    info: Info, *, author_id: int | None, first: int | None, after: str | None
) -> Connection[Session]:
    """Open sessions of ``author_id`` (the viewer's own when None), newest first."""
    viewer = info.context.viewer
    return await build_connection(
        sessions.sessions_of(viewer, author_id=author_id, now=datetime.now(UTC)),
        sort_key=NEWEST_FIRST,
        settings=info.context.settings,
        convert=lambda token: Session.from_model(token, current_token_id=viewer.token_id),
        first=first,
        after=after,
    )


@strawberry.type(description="An account as the people who manage users see it.")
class User:
    id: strawberry.ID = strawberry.field(description="The same id as the public `Author`.")
    pk: strawberry.Private[int]
    name: str
    slug: str
    email: str
    role: Role
    bio: str
    is_active: bool = strawberry.field(description="Whether the account may sign in.")
    created_at: datetime

    @strawberry.field(
        description="The author's open sessions, newest first.",
        permission_classes=[require(Permission.USERS_MANAGE)],
    )
    async def sessions(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[Session]:
        return await resolve_sessions(info, author_id=self.pk, first=first, after=after)

    @classmethod
    def from_model(cls, author: AuthorModel) -> User:
        return from_row(cls, author, id=to_global_id("Author", author.id), pk=author.id)


@strawberry.type(description="A credential for scripts and services. Its secret is never shown.")
class ApiToken:
    id: strawberry.ID
    author_id: strawberry.Private[int]
    name: str
    prefix: str = strawberry.field(
        description="The first characters of the secret, to tell tokens apart."
    )
    scopes: list[Permission] = strawberry.field(description="The permissions the token grants.")
    created_at: datetime
    expires_at: datetime
    last_used_at: datetime | None = strawberry.field(
        description="When the token last authenticated a request (to the minute)."
    )
    revoked_at: datetime | None

    @strawberry.field(description="Whose token this is.")
    async def author(self, info: Info) -> Author | None:
        author = await info.context.loaders.author_by_id.load(self.author_id)
        return Author.from_model(author) if author else None

    @classmethod
    def from_model(cls, token: ApiTokenModel) -> ApiToken:
        return from_row(
            cls, token, id=to_global_id("ApiToken", token.id), scopes=_permissions(token.scopes)
        )


@strawberry.type
class LoginPayload(Payload):
    token: str | None = strawberry.field(
        default=None,
        description="The session's bearer token: send it as `Authorization: Bearer <token>`.",
    )
    expires_at: datetime | None = strawberry.field(
        default=None, description="When the session ends."
    )
    viewer: Me | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class LogoutPayload(Payload):
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class CreateApiTokenPayload(Payload):
    token: str | None = strawberry.field(
        default=None, description="The token's secret. Shown only here, once: store it now."
    )
    api_token: ApiToken | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class RevokeApiTokenPayload(Payload):
    api_token: ApiToken | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class UserPayload(Payload):
    user: User | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class UpdateProfilePayload(Payload):
    me: Me | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class ChangePasswordPayload(Payload):
    ended_sessions: int | None = strawberry.field(
        default=None, description="How many of your other sessions the change ended."
    )
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class RevokeSessionPayload(Payload):
    session: Session | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)
