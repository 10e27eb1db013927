"""Mutations on tags (``tags.manage``: editors and admins): create, update, delete, merge.

Resolvers are alike in shape on purpose; see ``cms.graphql.payloads``.
"""

from __future__ import annotations

import strawberry

from cms.graphql.context import Info
from cms.graphql.node import pk_of
from cms.graphql.payloads import EXPECTED, Payload, UserError, failures_as
from cms.graphql.permissions import require
from cms.graphql.posts.types import Tag
from cms.permissions import Permission
from cms.services import tags

MANAGE = require(Permission.TAGS_MANAGE)


@strawberry.input
class CreateTagInput:
    name: str = strawberry.field(description="1 to 100 characters, unique whatever the case.")
    slug: str | None = strawberry.field(
        default=None, description="Made from the name when omitted."
    )
    description: str = ""


@strawberry.input(description="Omitted or null fields are left as they are.")
class UpdateTagInput:
    id: strawberry.ID
    name: str | None = None
    slug: str | None = None
    description: str | None = None


@strawberry.input
class DeleteTagInput:
    id: strawberry.ID


@strawberry.input
class MergeTagsInput:
    source: strawberry.ID = strawberry.field(description="The tag that goes away.")
    target: strawberry.ID = strawberry.field(description="The tag its posts move to.")


@strawberry.type
class TagPayload(Payload):
    tag: Tag | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class CreateTagPayload(TagPayload):
    pass


@strawberry.type
class UpdateTagPayload(TagPayload):
    pass


@strawberry.type
class MergeTagsPayload(TagPayload):
    pass


@strawberry.type
class DeleteTagPayload(Payload):
    deleted_id: strawberry.ID | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


def _forget_tags(info: Info) -> None:
    # Tag names and post counts cached earlier in this request (by a previous mutation of the
    # same document) may be stale now.
    info.context.loaders.tags_by_post_id.clear_all()
    info.context.loaders.post_count_by_tag_id.clear_all()


@strawberry.type
class TagMutations:
    @strawberry.mutation(permission_classes=[MANAGE], description="Create a tag.")
    @failures_as(CreateTagPayload, EXPECTED)
    async def create_tag(self, info: Info, input: CreateTagInput) -> CreateTagPayload:
        tag = await tags.create_tag(
            info.context.viewer,
            name=input.name,
            slug=input.slug,
            description=input.description,
        )
        _forget_tags(info)
        return CreateTagPayload(tag=Tag.from_model(tag))

    @strawberry.mutation(
        permission_classes=[MANAGE], description="Rename a tag or change its slug."
    )
    @failures_as(UpdateTagPayload, EXPECTED)
    async def update_tag(self, info: Info, input: UpdateTagInput) -> UpdateTagPayload:
        tag = await tags.update_tag(
            info.context.viewer,
            tag_id=pk_of(input.id, "Tag"),
            name=input.name,
            slug=input.slug,
            description=input.description,
        )
        _forget_tags(info)
        return UpdateTagPayload(tag=Tag.from_model(tag))

    @strawberry.mutation(
        permission_classes=[MANAGE], description="Delete a tag; its posts simply lose it."
    )
    @failures_as(DeleteTagPayload, EXPECTED)
    async def delete_tag(self, info: Info, input: DeleteTagInput) -> DeleteTagPayload:
        await tags.delete_tag(info.context.viewer, tag_id=pk_of(input.id, "Tag"))
        _forget_tags(info)
        return DeleteTagPayload(deleted_id=input.id)

    @strawberry.mutation(
        permission_classes=[MANAGE],
        description="Move every post of `source` to `target`, then delete `source`.",
    )
    @failures_as(MergeTagsPayload, EXPECTED)
    async def merge_tags(self, info: Info, input: MergeTagsInput) -> MergeTagsPayload:
        tag = await tags.merge_tags(
            info.context.viewer,
            source_id=pk_of(input.source, "Tag", field="source"),
            target_id=pk_of(input.target, "Tag", field="target"),
        )
        _forget_tags(info)
        return MergeTagsPayload(tag=Tag.from_model(tag))
