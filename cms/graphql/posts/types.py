"""The Post and Section object types."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from cms.content.markdown import Rendered, reading_time_minutes
from cms.content.rendering import render_or_escape
from cms.graphql.context import Info
from cms.graphql.deprecation import deprecated
from cms.graphql.node import Node, to_global_id
from cms.graphql.pagination import Connection
from cms.graphql.posts.enums import PostStatus
from cms.graphql.posts.previews import PreviewToken, resolve_preview_tokens
from cms.graphql.posts.revisions import Revision, resolve_revisions
from cms.graphql.rows import from_row
from cms.models import Post as PostModel
from cms.models import Section as SectionModel
from cms.services.time_travel import PastContent

if TYPE_CHECKING:
    from cms.graphql.authors.types import Author
    from cms.graphql.tags.types import Tag


@strawberry.type(description="A run of markdown under an optional heading, within a post.")
class Section(Node):
    pk: strawberry.Private[int]
    post_id: strawberry.Private[int]
    position: int = strawberry.field(description="0 for the first section of the post.")
    heading: str | None = strawberry.field(description="Null for the post's intro section.")
    anchor: str = strawberry.field(
        description="A fragment id unique within the post, e.g. `setup`, then `setup-2`."
    )
    body: str = strawberry.field(description="The section's text as markdown.")
    # Rendered when the section was written. None for a section of a past state (a revision
    # holds only markdown): rendered on demand then, off the event loop within the bounds.
    stored: strawberry.Private[Rendered | None]

    @strawberry.field(description="The body rendered as HTML; raw HTML in the markdown is escaped.")
    async def html(self) -> str:
        return (await self._rendered()).html

    @strawberry.field(description="The body as plain text, without markup.")
    async def plain_text(self) -> str:
        return (await self._rendered()).plain_text

    async def _rendered(self) -> Rendered:
        if self.stored is None:
            self.stored = await render_or_escape(self.body)
        return self.stored

    @classmethod
    def from_model(cls, section: SectionModel) -> Section:
        return from_row(
            cls,
            section,
            id=to_global_id("Section", section.id),
            pk=section.id,
            # NULL only if some write path forgot to render (a bug): rendered on demand then.
            stored=None
            if section.html is None or section.plain_text is None
            else Rendered(html=section.html, plain_text=section.plain_text),
        )


@strawberry.type(description="A post: a title, ordered sections, tags and an author.")
class Post(Node):
    pk: strawberry.Private[int]
    author_id: strawberry.Private[int]
    slug: str
    title: str
    excerpt: str
    status: PostStatus  # type: ignore[valid-type]
    published_at: datetime | None
    created_at: datetime
    updated_at: datetime
    version: int = strawberry.field(
        description="Bumped by every change to the post or its sections."
    )
    deleted_at: datetime | None = strawberry.field(
        description="When the post was moved to the trash; null unless it is there."
    )
    revisions: Connection[Revision] | None = strawberry.field(
        resolver=resolve_revisions,
        description="The post's history, newest first. Only for viewers who may edit the "
        "post: others get null and an UNAUTHENTICATED or FORBIDDEN error.",
    )
    preview_tokens: Connection[PreviewToken] | None = strawberry.field(
        resolver=resolve_preview_tokens,
        description="The post's preview tokens, newest first, revoked and expired ones too. "
        "Only for viewers who may edit the post: others get null and an UNAUTHENTICATED or "
        "FORBIDDEN error.",
    )
    # Set on a post read with `post(asOf:)`: its sections and tags as they were then.
    past: strawberry.Private[PastContent | None] = None

    @strawberry.field
    async def author(
        self, info: Info
    ) -> Annotated[Author, strawberry.lazy("cms.graphql.authors.types")]:
        from cms.graphql.authors.types import Author

        author = await info.context.loaders.author_by_id.load(self.author_id)
        assert author is not None, "posts.author_id is a non-null foreign key"  # noqa: S101
        return Author.from_model(author)

    @strawberry.field(description="The post's tags, by name.")
    async def tags(
        self, info: Info
    ) -> list[Annotated[Tag, strawberry.lazy("cms.graphql.tags.types")]]:
        from cms.graphql.tags.types import Tag

        if self.past is not None:
            from cms.graphql.posts.time_travel import past_tags

            return await past_tags(self.past)
        return [
            Tag.from_model(tag) for tag in await info.context.loaders.tags_by_post_id.load(self.pk)
        ]

    @strawberry.field(description="The post's sections, in reading order.")
    async def sections(self, info: Info) -> list[Section]:
        if self.past is not None:
            from cms.graphql.posts.time_travel import past_sections

            return past_sections(self.pk, self.past)
        sections = await info.context.loaders.sections_by_post_id.load(self.pk)
        return [Section.from_model(section) for section in sections]

    @strawberry.field(description="Estimated minutes to read the whole post.")
    async def reading_time_minutes(self, info: Info) -> int:
        return await self._minutes_to_read(info)

    @strawberry.field(
        description="Estimated minutes to read the whole post.",
        deprecation_reason=deprecated(
            reason="Renamed so that the name says the unit",
            replacement="readingTimeMinutes",
            since=date(2026, 11, 26),
            sunset=date(2027, 3, 1),
        ),
    )
    async def reading_time(self, info: Info) -> int | None:
        return await self._minutes_to_read(info)

    async def _minutes_to_read(self, info: Info) -> int:
        if self.past is not None:
            texts = [f"{s['heading'] or ''} {s['body']}" for s in self.past.sections]
        else:
            sections = await info.context.loaders.sections_by_post_id.load(self.pk)
            texts = [f"{s.heading or ''} {s.body}" for s in sections]
        return reading_time_minutes([self.title, *texts])

    @classmethod
    def from_model(cls, post: PostModel) -> Post:
        return from_row(cls, post, id=to_global_id("Post", post.id), pk=post.id)
