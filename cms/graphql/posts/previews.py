"""Revoking a post's preview tokens: `revokePreviewToken` (the list is `Post.previewTokens`).

A token's secret is never shown again: a token is told apart by when and by whom it was issued.
"""

from __future__ import annotations

import strawberry

from cms.graphql.context import Info
from cms.graphql.node import pk_of
from cms.graphql.payloads import EXPECTED, Payload, UserError, failures_as
from cms.graphql.permissions import IsAuthenticated
from cms.graphql.posts.types import PreviewToken
from cms.services import previews


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
