"""Mutations on posts: create, update, trash and restore, publish, revisions and previews.

Resolvers only translate: global ids to keys, inputs to service arguments, results and
expected failures to payloads. The rules live in ``cms.services``. Resolvers are alike in
shape on purpose; see ``cms.graphql.payloads``.
"""

from __future__ import annotations

import strawberry

from cms.graphql.context import Info
from cms.graphql.node import pk_of
from cms.graphql.payloads import EXPECTED, failures_as
from cms.graphql.permissions import require
from cms.graphql.posts.access import require_on_some_post
from cms.graphql.posts.inputs import (
    CreatePostInput,
    CreatePreviewTokenInput,
    DeletePostInput,
    PublishPostInput,
    RestorePostInput,
    RestoreRevisionInput,
    UnpublishPostInput,
    UpdatePostInput,
)
from cms.graphql.posts.payloads import (
    CreatePostPayload,
    CreatePreviewTokenPayload,
    DeletePostPayload,
    PublishPostPayload,
    RestorePostPayload,
    RestoreRevisionPayload,
    UnpublishPostPayload,
    UpdatePostPayload,
    written,
)
from cms.permissions import Permission as P
from cms.services import authoring, previews, revisions
from cms.services.editing import find_post

EDIT = require_on_some_post(P.POSTS_EDIT_OWN, P.POSTS_EDIT_ANY)
DELETE = require_on_some_post(P.POSTS_DELETE_OWN, P.POSTS_DELETE_ANY)
PUBLISH = require_on_some_post(P.POSTS_PUBLISH_OWN, P.POSTS_PUBLISH_ANY)
READ_DRAFTS = require_on_some_post(P.POSTS_READ_OWN_DRAFTS, P.POSTS_READ_ANY_DRAFTS)


@strawberry.type
class PostMutations:
    @strawberry.mutation(
        permission_classes=[require(P.POSTS_CREATE)],
        description="Create a post with its sections and tags, in one transaction.",
    )
    @failures_as(CreatePostPayload, EXPECTED)
    async def create_post(self, info: Info, input: CreatePostInput) -> CreatePostPayload:
        post = await authoring.create_post(
            info.context.viewer,
            title=input.title,
            slug=input.slug,
            excerpt=input.excerpt,
            tags=input.tags,
            sections=[section.to_fields() for section in input.sections],
            status=input.status,
        )
        return CreatePostPayload(post=written(info, post))

    @strawberry.mutation(
        permission_classes=[EDIT],
        description="Change some of a post's fields, if it is still at `expectedVersion`.",
    )
    @failures_as(UpdatePostPayload, EXPECTED)
    async def update_post(self, info: Info, input: UpdatePostInput) -> UpdatePostPayload:
        post = await authoring.update_post(
            info.context.viewer,
            post_id=pk_of(input.id, "Post"),
            expected_version=input.expected_version,
            changes=input.to_changes(),
        )
        return UpdatePostPayload(post=written(info, post))

    @strawberry.mutation(
        permission_classes=[DELETE],
        description="Move a post to the trash: hidden everywhere until `restorePost`. "
        "`cms trash purge` deletes it for good later.",
    )
    @failures_as(DeletePostPayload, EXPECTED)
    async def delete_post(self, info: Info, input: DeletePostInput) -> DeletePostPayload:
        post = await authoring.delete_post(
            info.context.viewer,
            post_id=pk_of(input.id, "Post"),
            expected_version=input.expected_version,
        )
        return DeletePostPayload(post=written(info, post))

    @strawberry.mutation(permission_classes=[DELETE], description="Take a post out of the trash.")
    @failures_as(RestorePostPayload, EXPECTED)
    async def restore_post(self, info: Info, input: RestorePostInput) -> RestorePostPayload:
        post = await authoring.restore_post(
            info.context.viewer,
            post_id=pk_of(input.id, "Post"),
            expected_version=input.expected_version,
        )
        return RestorePostPayload(post=written(info, post))

    @strawberry.mutation(
        permission_classes=[PUBLISH],
        description="Publish a post now, or schedule it: with a future `at` it is SCHEDULED "
        "and readers see it from that moment.",
    )
    @failures_as(PublishPostPayload, EXPECTED)
    async def publish_post(self, info: Info, input: PublishPostInput) -> PublishPostPayload:
        post = await authoring.publish_post(
            info.context.viewer,
            post_id=pk_of(input.id, "Post"),
            expected_version=input.expected_version,
            at=input.at,
        )
        return PublishPostPayload(post=written(info, post))

    @strawberry.mutation(
        permission_classes=[PUBLISH],
        description="Make a published or scheduled post a draft again.",
    )
    @failures_as(UnpublishPostPayload, EXPECTED)
    async def unpublish_post(self, info: Info, input: UnpublishPostInput) -> UnpublishPostPayload:
        post = await authoring.unpublish_post(
            info.context.viewer,
            post_id=pk_of(input.id, "Post"),
            expected_version=input.expected_version,
        )
        return UnpublishPostPayload(post=written(info, post))

    @strawberry.mutation(
        permission_classes=[EDIT],
        description="Bring back a revision's title, slug, excerpt, tags and sections, as a new "
        "revision (history is never rewritten). Status and author are not restored.",
    )
    @failures_as(RestoreRevisionPayload, EXPECTED)
    async def restore_revision(
        self, info: Info, input: RestoreRevisionInput
    ) -> RestoreRevisionPayload:
        post = await revisions.restore_revision(
            info.context.viewer,
            post_id=pk_of(input.post_id, "Post", field="postId"),
            revision_id=pk_of(input.revision_id, "Revision", field="revisionId"),
            expected_version=input.expected_version,
        )
        return RestoreRevisionPayload(post=written(info, post))

    @strawberry.mutation(
        permission_classes=[READ_DRAFTS],
        description="A token that lets anyone holding it read this one post, whatever its "
        "status, until it expires: send it as the `X-Preview-Token` header.",
    )
    @failures_as(CreatePreviewTokenPayload, EXPECTED)
    async def create_preview_token(
        self, info: Info, input: CreatePreviewTokenInput
    ) -> CreatePreviewTokenPayload:
        issued = await previews.create_preview_token(
            info.context.viewer,
            post_id=pk_of(input.post_id, "Post", field="postId"),
            expires_in=input.expires_in,
        )
        post = await find_post(issued.row.post_id)
        return CreatePreviewTokenPayload(
            token=issued.secret, expires_at=issued.row.expires_at, post=written(info, post)
        )
