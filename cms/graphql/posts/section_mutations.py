"""Mutations on one section of a post: add, update, move, delete.

Each changes the post: it takes the post's ``expectedVersion`` and bumps its version.
Resolvers are alike in shape on purpose; see ``cms.graphql.payloads``.
"""

from __future__ import annotations

import strawberry

from cms.graphql.context import Info
from cms.graphql.node import pk_of
from cms.graphql.payloads import EXPECTED, failures_as
from cms.graphql.posts.access import require_on_some_post
from cms.graphql.posts.inputs import (
    AddSectionInput,
    DeleteSectionInput,
    MoveSectionInput,
    UpdateSectionInput,
)
from cms.graphql.posts.payloads import (
    AddSectionPayload,
    DeleteSectionPayload,
    MoveSectionPayload,
    UpdateSectionPayload,
    written,
)
from cms.graphql.posts.types import Section
from cms.permissions import Permission as P
from cms.services import sections
from cms.services.sections import SectionChange

EDIT = require_on_some_post(P.POSTS_EDIT_OWN, P.POSTS_EDIT_ANY)


def _section(change: SectionChange) -> Section | None:
    return Section.from_model(change.section) if change.section else None


@strawberry.type
class SectionMutations:
    @strawberry.mutation(
        permission_classes=[EDIT], description="Insert a section; later ones move down."
    )
    @failures_as(AddSectionPayload, EXPECTED)
    async def add_section(self, info: Info, input: AddSectionInput) -> AddSectionPayload:
        change = await sections.add_section(
            info.context.viewer,
            post_id=pk_of(input.post_id, "Post", field="postId"),
            expected_version=input.expected_version,
            section=input.section.to_fields(),
            position=input.position,
        )
        return AddSectionPayload(post=written(info, change.post), section=_section(change))

    @strawberry.mutation(
        permission_classes=[EDIT], description="Change a section's heading or body."
    )
    @failures_as(UpdateSectionPayload, EXPECTED)
    async def update_section(self, info: Info, input: UpdateSectionInput) -> UpdateSectionPayload:
        change = await sections.update_section(
            info.context.viewer,
            section_id=pk_of(input.section_id, "Section", field="sectionId"),
            expected_version=input.expected_version,
            heading=input.heading,
            body=input.body,
        )
        return UpdateSectionPayload(post=written(info, change.post), section=_section(change))

    @strawberry.mutation(
        permission_classes=[EDIT], description="Move a section to another position."
    )
    @failures_as(MoveSectionPayload, EXPECTED)
    async def move_section(self, info: Info, input: MoveSectionInput) -> MoveSectionPayload:
        change = await sections.move_section(
            info.context.viewer,
            section_id=pk_of(input.section_id, "Section", field="sectionId"),
            expected_version=input.expected_version,
            position=input.position,
        )
        return MoveSectionPayload(post=written(info, change.post), section=_section(change))

    @strawberry.mutation(
        permission_classes=[EDIT], description="Delete a section; later ones move up."
    )
    @failures_as(DeleteSectionPayload, EXPECTED)
    async def delete_section(self, info: Info, input: DeleteSectionInput) -> DeleteSectionPayload:
        change = await sections.delete_section(
            info.context.viewer,
            section_id=pk_of(input.section_id, "Section", field="sectionId"),
            expected_version=input.expected_version,
        )
        return DeleteSectionPayload(post=written(info, change.post))
