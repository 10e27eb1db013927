"""Inputs of the account mutations."""

from __future__ import annotations

from datetime import datetime

import strawberry

from cms.graphql.accounts.enums import Permission, Role


@strawberry.input
class LoginInput:
    email: str
    password: str


@strawberry.input
class CreateApiTokenInput:
    name: str = strawberry.field(description="What the token is for, e.g. `deploy script`.")
    scopes: list[Permission] = strawberry.field(
        description="The permissions the token grants; you must hold each of them."
    )
    expires_at: datetime | None = strawberry.field(
        default=None,
        description="When the token stops working: in the future, at most a year away. "
        "Defaults to 90 days from now.",
    )


@strawberry.input
class RevokeApiTokenInput:
    id: strawberry.ID


@strawberry.input
class CreateUserInput:
    email: str
    name: str
    role: Role
    password: str = strawberry.field(description="At least 12 characters.")


@strawberry.input
class UpdateUserRoleInput:
    id: strawberry.ID = strawberry.field(description="The author's id.")
    role: Role


@strawberry.input(description="Fields left out (or null) keep their current value.")
class UpdateProfileInput:
    name: str | None = None
    bio: str | None = None


@strawberry.input
class DeactivateUserInput:
    id: strawberry.ID = strawberry.field(description="The author's id.")


@strawberry.input
class ReactivateUserInput:
    id: strawberry.ID = strawberry.field(description="The author's id.")


@strawberry.input
class ChangePasswordInput:
    current_password: str
    new_password: str = strawberry.field(description="At least 12 characters.")


@strawberry.input
class RevokeSessionInput:
    id: strawberry.ID = strawberry.field(description="The session's id, from `sessions`.")
