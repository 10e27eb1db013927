"""`post(asOf:)`: a post as it was at a moment, and the sections and tags it had then."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from cms.graphql.context import Info
from cms.graphql.node import to_global_id
from cms.graphql.posts.types import Post, Section
from cms.models import Tag as TagModel
from cms.services.time_travel import PastContent, post_as_of

if TYPE_CHECKING:
    from cms.graphql.tags.types import Tag

# Sections of a past state have no row of their own; their ids say where they come from
# (revision and position) and `node(id:)` answers null for them.
PAST_SECTION_TYPE = "RevisionSection"
_POSITIONS_PER_REVISION = 1000  # above the most sections a post may have


AS_OF_HELP = (
    "Read the post as it was at this moment (from its revisions): null if it did not exist "
    "yet, or was not visible to you then. Anonymous readers see only what was public at that "
    "moment, even if it is unpublished now. Find the post by id or by its current slug."
)


async def resolve_post_as_of(
    info: Info, *, post_id: int | None, slug: str | None, as_of: datetime
) -> Post | None:
    past = await post_as_of(info.context.visibility, as_of=as_of, post_id=post_id, slug=slug)
    if past is None:
        return None
    post = Post.from_model(past.post)
    post.past = past.content
    return post


def past_sections(post_pk: int, past: PastContent) -> list[Section]:
    return [
        Section(
            id=to_global_id(
                PAST_SECTION_TYPE, (past.revision_id or 0) * _POSITIONS_PER_REVISION + position
            ),
            pk=0,
            post_id=post_pk,
            position=position,
            heading=section["heading"],
            anchor=section["anchor"],
            body=section["body"],
            stored=None,
        )
        for position, section in enumerate(past.sections)
    ]


async def past_tags(past: PastContent) -> list[Tag]:
    """The tags the post had then, under today's names; tags deleted since are left out."""
    from cms.graphql.tags.types import Tag

    tags = await TagModel.filter(id__in=past.tag_ids).order_by("name", "id")
    return [Tag.from_model(tag) for tag in tags]
