"""Account mutations: login and logout, API tokens, sessions, users, roles and passwords.

Expected failures come back as payload ``errors``; a failed login is one of them
(UNAUTHENTICATED, with one message whatever went wrong, or THROTTLED). Every other mutation
checks credentials first and reports missing or insufficient ones as top-level errors.
Resolvers are alike in shape on purpose; see ``cms.graphql.payloads``.
"""

from __future__ import annotations

from datetime import UTC, datetime

import strawberry

from cms.auth.passwords import PasswordHashing, password_hashing
from cms.errors import Conflict, InvalidInput, NotFound, Throttled, Unauthenticated
from cms.graphql.accounts.inputs import (
    ChangePasswordInput,
    CreateApiTokenInput,
    CreateUserInput,
    DeactivateUserInput,
    LoginInput,
    ReactivateUserInput,
    RevokeApiTokenInput,
    RevokeSessionInput,
    UpdateProfileInput,
    UpdateUserRoleInput,
)
from cms.graphql.accounts.types import (
    ApiToken,
    ChangePasswordPayload,
    CreateApiTokenPayload,
    LoginPayload,
    LogoutPayload,
    Me,
    RevokeApiTokenPayload,
    RevokeSessionPayload,
    Session,
    UpdateProfilePayload,
    User,
    UserPayload,
)
from cms.graphql.context import Info
from cms.graphql.node import from_global_id, pk_of
from cms.graphql.payloads import failures_as
from cms.graphql.permissions import IsAuthenticated, require
from cms.permissions import ROLE_PERMISSIONS, Permission
from cms.services import account_lifecycle, accounts, sessions
from cms.web.client_address import connection_key

# Failures a client can fix by changing its input; permission failures are not among them. Unlike
# cms.graphql.payloads.EXPECTED, a database outage (ServiceUnavailable) stays a top-level error.
EXPECTED = (InvalidInput, NotFound, Conflict, Throttled)


def _hashing(info: Info) -> PasswordHashing:
    return password_hashing(info.context.settings.hash_concurrency)


def _client_address(info: Info) -> str:
    # The client as cms.web.proxies resolved it (behind trusted proxies, the real client), as
    # a session records it.
    client = info.context.request.client
    return client.host if client else "unknown"


def _client_key(info: Info) -> str:
    # The same client as every per-client limit counts it: IPv6 grouped by /64.
    return connection_key(info.context.request.scope)


def _pk(global_id: str, type_name: str) -> int:
    kind, pk = from_global_id(global_id)
    if kind != type_name:
        raise InvalidInput(f"{global_id!r} is not the id of a {type_name}.", field="id")
    return pk


@strawberry.type
class AccountMutations:
    @strawberry.mutation(description="Sign in with an email and a password.")
    @failures_as(LoginPayload, (Unauthenticated, *EXPECTED))
    async def login(self, info: Info, input: LoginInput) -> LoginPayload:
        signed_in = await accounts.log_in(
            email=input.email,
            password=input.password,
            client_address=_client_address(info),
            client_key=_client_key(info),
            throttle=info.context.login_throttle,
            hashing=_hashing(info),
            session_lifetime=info.context.settings.session_lifetime,
            now=datetime.now(UTC),
            user_agent=info.context.request.headers.get("user-agent", ""),
        )
        author, session = signed_in.author, signed_in.session
        return LoginPayload(
            token=session.secret,
            expires_at=session.token.expires_at,
            viewer=Me.from_model(author, permissions=ROLE_PERMISSIONS[author.role]),
        )

    @strawberry.mutation(
        description="End the session the request was made with.",
        permission_classes=[IsAuthenticated],
    )
    @failures_as(LogoutPayload, EXPECTED)
    async def logout(self, info: Info) -> LogoutPayload:
        await accounts.log_out(info.context.viewer, now=datetime.now(UTC))
        return LogoutPayload()

    @strawberry.mutation(
        description="Create an API token. Its secret is in the payload, and only there.",
        permission_classes=[require(Permission.TOKENS_MANAGE_OWN)],
    )
    @failures_as(CreateApiTokenPayload, EXPECTED)
    async def create_api_token(
        self, info: Info, input: CreateApiTokenInput
    ) -> CreateApiTokenPayload:
        issued = await accounts.create_api_token(
            info.context.viewer,
            name=input.name,
            scopes=[scope.value for scope in input.scopes],
            expires_at=input.expires_at,
            now=datetime.now(UTC),
        )
        return CreateApiTokenPayload(
            token=issued.secret, api_token=ApiToken.from_model(issued.token)
        )

    @strawberry.mutation(
        description="Revoke one of your API tokens; it stops working at once.",
        permission_classes=[require(Permission.TOKENS_MANAGE_OWN)],
    )
    @failures_as(RevokeApiTokenPayload, EXPECTED)
    async def revoke_api_token(
        self, info: Info, input: RevokeApiTokenInput
    ) -> RevokeApiTokenPayload:
        token = await accounts.revoke_api_token(
            info.context.viewer, token_id=_pk(input.id, "ApiToken"), now=datetime.now(UTC)
        )
        return RevokeApiTokenPayload(api_token=ApiToken.from_model(token))

    @strawberry.mutation(
        description="Create an account that can sign in.",
        permission_classes=[require(Permission.USERS_MANAGE)],
    )
    @failures_as(UserPayload, EXPECTED)
    async def create_user(self, info: Info, input: CreateUserInput) -> UserPayload:
        author = await accounts.create_user(
            email=input.email,
            name=input.name,
            role=input.role,
            password=input.password,
            hashing=_hashing(info),
        )
        return UserPayload(user=User.from_model(author))

    @strawberry.mutation(
        description="Give another author a different role.",
        permission_classes=[require(Permission.USERS_MANAGE)],
    )
    @failures_as(UserPayload, EXPECTED)
    async def update_user_role(self, info: Info, input: UpdateUserRoleInput) -> UserPayload:
        author = await accounts.update_user_role(
            info.context.viewer, author_id=_pk(input.id, "Author"), role=input.role
        )
        return UserPayload(user=User.from_model(author))

    @strawberry.mutation(
        description="Change your own name or bio.",
        permission_classes=[require(Permission.PROFILE_EDIT_OWN)],
    )
    @failures_as(UpdateProfilePayload, EXPECTED)
    async def update_profile(self, info: Info, input: UpdateProfileInput) -> UpdateProfilePayload:
        viewer = info.context.viewer
        author = await accounts.update_profile(viewer, name=input.name, bio=input.bio)
        return UpdateProfilePayload(me=Me.from_model(author, permissions=viewer.permissions))

    @strawberry.mutation(
        description="Deactivate another account: it can no longer sign in, and every session, "
        "API token and preview token it holds stops working at once.",
        permission_classes=[require(Permission.USERS_MANAGE)],
    )
    @failures_as(UserPayload, EXPECTED)
    async def deactivate_user(self, info: Info, input: DeactivateUserInput) -> UserPayload:
        author = await account_lifecycle.deactivate_user(
            info.context.viewer, author_id=pk_of(input.id, "Author"), now=datetime.now(UTC)
        )
        return UserPayload(user=User.from_model(author))

    @strawberry.mutation(
        description="Let a deactivated account sign in again. Its old tokens stay revoked.",
        permission_classes=[require(Permission.USERS_MANAGE)],
    )
    @failures_as(UserPayload, EXPECTED)
    async def reactivate_user(self, info: Info, input: ReactivateUserInput) -> UserPayload:
        author = await account_lifecycle.reactivate_user(
            info.context.viewer, author_id=pk_of(input.id, "Author")
        )
        return UserPayload(user=User.from_model(author))

    @strawberry.mutation(
        description="Change your password. Your other sessions end; this one goes on. API "
        "tokens are not affected.",
        permission_classes=[require(Permission.PASSWORD_CHANGE_OWN)],
    )
    @failures_as(ChangePasswordPayload, EXPECTED)
    async def change_password(
        self, info: Info, input: ChangePasswordInput
    ) -> ChangePasswordPayload:
        ended = await account_lifecycle.change_password(
            info.context.viewer,
            current_password=input.current_password,
            new_password=input.new_password,
            hashing=_hashing(info),
            throttle=info.context.login_throttle,
            client_key=_client_key(info),
            now=datetime.now(UTC),
        )
        return ChangePasswordPayload(ended_sessions=ended)

    @strawberry.mutation(
        description="End one of your sessions (anyone's, with `users.manage`); it stops "
        "working at once.",
        permission_classes=[require(Permission.SESSIONS_MANAGE_OWN)],
    )
    @failures_as(RevokeSessionPayload, EXPECTED)
    async def revoke_session(self, info: Info, input: RevokeSessionInput) -> RevokeSessionPayload:
        viewer = info.context.viewer
        session = await sessions.revoke_session(
            viewer, session_id=pk_of(input.id, "Session"), now=datetime.now(UTC)
        )
        return RevokeSessionPayload(
            session=Session.from_model(session, current_token_id=viewer.token_id)
        )
