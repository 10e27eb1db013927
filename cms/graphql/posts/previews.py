"""Listing and revoking a post's preview tokens: `Post.previewTokens`, `revokePreviewToken`.

Only viewers who may edit a post see its tokens; anyone else selecting `previewTokens` gets
null with a top-level UNAUTHENTICATED or FORBIDDEN error, as for `Post.revisions`. A token's
secret is never shown again: a token is told apart by when and by whom it was issued.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry

from cms.graphql.context import Info
from cms.graphql.node import pk_of, to_global_id
from cms.graphql.pagination import Connection, build_connection
from cms.graphql.payloads import EXPECTED, Payload, UserError, failures_as
from cms.graphql.permissions import IsAuthenticated
from cms.graphql.rows import from_row
from cms.models import PreviewToken as PreviewTokenModel
from cms.services import previews
from cms.services.pagination import SortKey

if TYPE_CHECKING:
    from cms.graphql.authors.types import Author

NEWEST_FIRST = SortKey((("id", True),))


@strawberry.type(description="A token that lets its holder read one post. Its secret is not kept.")
class PreviewToken:
    id: strawberry.ID = strawberry.field(description="Pass it to `revokePreviewToken`.")
    created_by_id: strawberry.Private[int | None]
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None

    @strawberry.field(description="Who issued it; null if that account was deleted.")
    async def created_by(
        self, info: Info
    ) -> Annotated[Author, strawberry.lazy("cms.graphql.authors.types")] | None:
        from cms.graphql.authors.types import Author

        if self.created_by_id is None:
            return None
        author = await info.context.loaders.author_by_id.load(self.created_by_id)
        return Author.from_model(author) if author else None

    @classmethod
    def from_model(cls, token: PreviewTokenModel) -> PreviewToken:
        return from_row(cls, token, id=to_global_id("PreviewToken", token.id))


async def resolve_preview_tokens(
    root: Any, info: Info, first: int | None = None, after: str | None = None
) -> Connection[PreviewToken] | None:
    """The preview tokens of ``root`` (a Post), newest first, revoked and expired ones too."""
    return await build_connection(
        previews.preview_tokens_of(info.context.viewer, post_id=root.pk, author_id=root.author_id),
        sort_key=NEWEST_FIRST,
        settings=info.context.settings,
        convert=PreviewToken.from_model,
        first=first,
        after=after,
    )


@strawberry.input
class RevokePreviewTokenInput:
    id: strawberry.ID = strawberry.field(description="The token's id, from `Post.previewTokens`.")


@strawberry.type
class RevokePreviewTokenPayload(Payload):
    preview_token: PreviewToken | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class PreviewTokenMutations:
    @strawberry.mutation(
        description="Stop a preview token from working, at once. Needs the right to edit its post.",
        permission_classes=[IsAuthenticated],
    )
    @failures_as(RevokePreviewTokenPayload, EXPECTED)
    async def revoke_preview_token(
        self, info: Info, input: RevokePreviewTokenInput
    ) -> RevokePreviewTokenPayload:
        token = await previews.revoke_preview_token(
            info.context.viewer, token_id=pk_of(input.id, "PreviewToken")
        )
        return RevokePreviewTokenPayload(preview_token=PreviewToken.from_model(token))
