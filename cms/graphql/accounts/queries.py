"""Read fields for accounts: the viewer's own account and their API tokens."""

from __future__ import annotations

from typing import Annotated

import strawberry

from cms.graphql.accounts.types import NEWEST_FIRST, ApiToken, Me, Session, resolve_sessions
from cms.graphql.context import Info
from cms.graphql.node import pk_of
from cms.graphql.pagination import Connection, build_connection
from cms.graphql.permissions import require
from cms.permissions import Permission
from cms.services import accounts


@strawberry.type
class AccountQueries:
    @strawberry.field(description="The signed-in author's account; null for anonymous readers.")
    async def me(self, info: Info) -> Me | None:
        viewer = info.context.viewer
        if viewer.author_id is None:
            return None
        author = await info.context.loaders.author_by_id.load(viewer.author_id)
        return Me.from_model(author, permissions=viewer.permissions) if author else None

    @strawberry.field(
        description="Your API tokens (revoked and expired ones included), newest first.",
        permission_classes=[require(Permission.TOKENS_MANAGE_OWN)],
    )
    async def api_tokens(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        all_: Annotated[
            bool,
            strawberry.argument(
                name="all", description="Everyone's tokens (needs `users.manage`)."
            ),
        ] = False,
    ) -> Connection[ApiToken]:
        return await build_connection(
            accounts.api_tokens(info.context.viewer, everyone=all_),
            sort_key=NEWEST_FIRST,
            settings=info.context.settings,
            convert=ApiToken.from_model,
            first=first,
            after=after,
        )

    @strawberry.field(
        description="Open sessions (unrevoked, unexpired), newest first: yours, or another "
        "author's for those who manage users.",
        permission_classes=[require(Permission.SESSIONS_MANAGE_OWN)],
    )
    async def sessions(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        user_id: Annotated[
            strawberry.ID | None,
            strawberry.argument(description="Another author's id (needs `users.manage`)."),
        ] = None,
    ) -> Connection[Session]:
        author_id = None if user_id is None else pk_of(user_id, "Author", field="userId")
        return await resolve_sessions(info, author_id=author_id, first=first, after=after)
