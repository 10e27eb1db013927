"""Mutations on posts: create, update, trash and restore, publish, revisions and previews.

Resolvers only translate: global ids to keys, inputs to service arguments, results and
expected failures to payloads. The rules live in ``cms.services``.
"""

from __future__ import annotations

import strawberry

from cms.errors import CMSError
from cms.graphql.context import Info
from cms.graphql.node import pk_of
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
    async def create_post(self, info: Info, input: CreatePostInput) -> CreatePostPayload:
        try:
            post = await authoring.create_post(
                info.context.viewer,
                title=input.title,
                slug=input.slug,
                excerpt=input.excerpt,
                tags=input.tags,
                sections=[section.to_fields() for section in input.sections],
                status=input.status,
            )
        except CMSError as exc:
            return CreatePostPayload.failure(exc)
        return CreatePostPayload(post=written(info, post))

    @strawberry.mutation(
        permission_classes=[EDIT],
        description="Change some of a post's fields, if it is still at `expectedVersion`.",
    )
    async def update_post(self, info: Info, input: UpdatePostInput) -> UpdatePostPayload:
        try:
            post = await authoring.update_post(
                info.context.viewer,
                post_id=pk_of(input.id, "Post"),
                expected_version=input.expected_version,
                changes=input.to_changes(),
            )
        except CMSError as exc:
            return UpdatePostPayload.failure(exc)
        return UpdatePostPayload(post=written(info, post))

    @strawberry.mutation(
        permission_classes=[DELETE],
        description="Move a post to the trash: hidden everywhere until `restorePost`. "
        "`cms trash purge` deletes it for good later.",
    )
    async def delete_post(self, info: Info, input: DeletePostInput) -> DeletePostPayload:
        try:
            post = await authoring.delete_post(
                info.context.viewer,
                post_id=pk_of(input.id, "Post"),
                expected_version=input.expected_version,
            )
        except CMSError as exc:
            return DeletePostPayload.failure(exc)
        return DeletePostPayload(post=written(info, post))

    @strawberry.mutation(permission_classes=[DELETE], description="Take a post out of the trash.")
    async def restore_post(self, info: Info, input: RestorePostInput) -> RestorePostPayload:
        try:
            post = await authoring.restore_post(
                info.context.viewer,
                post_id=pk_of(input.id, "Post"),
                expected_version=input.expected_version,
            )
        except CMSError as exc:
            return RestorePostPayload.failure(exc)
        return RestorePostPayload(post=written(info, post))

    @strawberry.mutation(
        permission_classes=[PUBLISH],
        description="Publish a post now, or schedule it: with a future `at` it is SCHEDULED "
        "and readers see it from that moment.",
    )
    async def publish_post(self, info: Info, input: PublishPostInput) -> PublishPostPayload:
        try:
            post = await authoring.publish_post(
                info.context.viewer,
                post_id=pk_of(input.id, "Post"),
                expected_version=input.expected_version,
                at=input.at,
            )
        except CMSError as exc:
            return PublishPostPayload.failure(exc)
        return PublishPostPayload(post=written(info, post))

    @strawberry.mutation(
        permission_classes=[PUBLISH],
        description="Make a published or scheduled post a draft again.",
    )
    async def unpublish_post(self, info: Info, input: UnpublishPostInput) -> UnpublishPostPayload:
        try:
            post = await authoring.unpublish_post(
                info.context.viewer,
                post_id=pk_of(input.id, "Post"),
                expected_version=input.expected_version,
            )
        except CMSError as exc:
            return UnpublishPostPayload.failure(exc)
        return UnpublishPostPayload(post=written(info, post))

    @strawberry.mutation(
        permission_classes=[EDIT],
        description="Bring back a revision's title, slug, excerpt, tags and sections, as a new "
        "revision (history is never rewritten). Status and author are not restored.",
    )
    async def restore_revision(
        self, info: Info, input: RestoreRevisionInput
    ) -> RestoreRevisionPayload:
        try:
            post = await revisions.restore_revision(
                info.context.viewer,
                post_id=pk_of(input.post_id, "Post", field="postId"),
                revision_id=pk_of(input.revision_id, "Revision", field="revisionId"),
                expected_version=input.expected_version,
            )
        except CMSError as exc:
            return RestoreRevisionPayload.failure(exc)
        return RestoreRevisionPayload(post=written(info, post))

    @strawberry.mutation(
        permission_classes=[READ_DRAFTS],
        description="A token that lets anyone holding it read this one post, whatever its "
        "status, until it expires: send it as the `X-Preview-Token` header.",
    )
    async def create_preview_token(
        self, info: Info, input: CreatePreviewTokenInput
    ) -> CreatePreviewTokenPayload:
        try:
            issued = await previews.create_preview_token(
                info.context.viewer,
                post_id=pk_of(input.post_id, "Post", field="postId"),
                expires_in=input.expires_in,
            )
            post = await find_post(issued.row.post_id)
        except CMSError as exc:
            return CreatePreviewTokenPayload.failure(exc)
        return CreatePreviewTokenPayload(
            token=issued.secret, expires_at=issued.row.expires_at, post=written(info, post)
        )
