"""Object types of accounts: the viewer's own account, users as admins see them, API tokens.

``Me`` and ``User`` show an author's private details (email, role), which the public ``Author``
type never does. Their ``id`` is the author's global id, so ``node(id:)`` finds the public side.
"""

from __future__ import annotations

from datetime import datetime

import strawberry

from cms.graphql.accounts.enums import Permission, Role
from cms.graphql.authors.types import Author
from cms.graphql.context import Info
from cms.graphql.node import to_global_id
from cms.graphql.payloads import UserError
from cms.models import ApiToken as ApiTokenModel
from cms.models import Author as AuthorModel


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
        return cls(
            id=to_global_id("Author", author.id),
            name=author.name,
            slug=author.slug,
            email=author.email,
            role=author.role,
            bio=author.bio,
            permissions=_permissions(permissions),
        )


@strawberry.type(description="An account as the people who manage users see it.")
class User:
    id: strawberry.ID = strawberry.field(description="The same id as the public `Author`.")
    name: str
    slug: str
    email: str
    role: Role
    bio: str
    is_active: bool = strawberry.field(description="Whether the account may sign in.")
    created_at: datetime

    @classmethod
    def from_model(cls, author: AuthorModel) -> User:
        return cls(
            id=to_global_id("Author", author.id),
            name=author.name,
            slug=author.slug,
            email=author.email,
            role=author.role,
            bio=author.bio,
            is_active=author.is_active,
            created_at=author.created_at,
        )


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
        return cls(
            id=to_global_id("ApiToken", token.id),
            author_id=token.author_id,
            name=token.name,
            prefix=token.prefix,
            scopes=_permissions(token.scopes),
            created_at=token.created_at,
            expires_at=token.expires_at,
            last_used_at=token.last_used_at,
            revoked_at=token.revoked_at,
        )


@strawberry.type
class LoginPayload:
    token: str | None = strawberry.field(
        description="The session's bearer token: send it as `Authorization: Bearer <token>`."
    )
    expires_at: datetime | None = strawberry.field(description="When the session ends.")
    viewer: Me | None
    errors: list[UserError]


@strawberry.type
class LogoutPayload:
    errors: list[UserError]


@strawberry.type
class CreateApiTokenPayload:
    token: str | None = strawberry.field(
        description="The token's secret. Shown only here, once: store it now."
    )
    api_token: ApiToken | None
    errors: list[UserError]


@strawberry.type
class RevokeApiTokenPayload:
    api_token: ApiToken | None
    errors: list[UserError]


@strawberry.type
class UserPayload:
    user: User | None
    errors: list[UserError]


@strawberry.type
class UpdateProfilePayload:
    me: Me | None
    errors: list[UserError]
