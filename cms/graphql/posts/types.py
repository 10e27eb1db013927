"""The object types of a post and of everything that links back to it.

Post, Section, Tag, Author, Revision and PreviewToken share one module because the schema links
them both ways: ``Post.tags`` and ``Tag.posts``, ``Post.author`` and ``Author.posts``, and
``Post.revisions`` and ``Post.previewTokens`` lead to an ``Author`` whose ``posts`` lead back.
A schema may be cyclic; the import graph may not (the import-linter contracts in
pyproject.toml), and a resolver that builds a ``Tag`` needs the ``Tag`` class. What the fields
do lives below: the post lists in ``lists``, as-of reads in ``cms.services.time_travel``. How
each field reads the database is declared on it (``cms.graphql.declarations``): the resolvers
here are written beside that declaration, and the compiled read path plans from it.

Revisions and preview tokens are for viewers who may edit the post: anyone else selecting
``revisions`` or ``previewTokens`` gets null with a top-level UNAUTHENTICATED error when
anonymous, FORBIDDEN when signed in without the right to edit that post. Revisions are read
with one statement per post (they are meant for a post's editing screen, not for every post of
a long list); their ids (``Revision:<pk>``) go to ``restoreRevision``, and ``node(id:)`` does
not fetch them. A preview token's secret is never shown again: a token is told apart by when
and by whom it was issued.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import date, datetime
from typing import Annotated, Any

import strawberry

from cms.graphql.context import Info
from cms.graphql.declarations import (
    Column,
    ConnectionOf,
    Derived,
    PostCount,
    ToMany,
    ToOne,
    loads,
    stored_in,
)
from cms.graphql.deprecation import deprecated
from cms.graphql.node import Node, to_global_id
from cms.graphql.pagination import Connection, Edge, PageInfo, build_connection
from cms.graphql.posts.enums import PostStatus
from cms.graphql.posts.inputs import PostFilter, PostOrder
from cms.graphql.posts.lists import (
    AFTER_HELP,
    BEFORE_HELP,
    PAGE_ARGUMENT_HELP,
    PostRows,
    read_posts,
)
from cms.graphql.posts.revision_diff import RevisionDiff, resolve_revision_diff
from cms.graphql.rows import column, from_row
from cms.models import Author as AuthorModel
from cms.models import Post as PostModel
from cms.models import PostStatus as PostStatusModel
from cms.models import PreviewToken as PreviewTokenModel
from cms.models import Revision as RevisionModel
from cms.models import Section as SectionModel
from cms.models import Tag as TagModel
from cms.rendering.markdown import Rendered, reading_time_minutes
from cms.rendering.workers import render_or_escape
from cms.services import previews
from cms.services import revisions as revision_service
from cms.services.pagination import SortKey
from cms.services.post_pages import ParentKind
from cms.services.posts import PostOrdering
from cms.services.snapshots import Snapshot, load_snapshots
from cms.services.time_travel import PastContent

# Sections of a past state have no row of their own; their ids say where they come from
# (revision and position) and `node(id:)` answers null for them.
PAST_SECTION_TYPE = "RevisionSection"
_POSITIONS_PER_REVISION = 1000  # above the most sections a post may have


@stored_in(SectionModel)
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

    @strawberry.field(
        description="The body rendered as HTML; raw HTML in the markdown is escaped.",
        metadata=loads(Column("html")),
    )
    async def html(self) -> str:
        return (await self._rendered()).html

    @strawberry.field(
        description="The body as plain text, without markup.",
        metadata=loads(Column("plain_text")),
    )
    async def plain_text(self) -> str:
        return (await self._rendered()).plain_text

    async def _rendered(self) -> Rendered:
        if self.stored is None:
            self.stored = await render_or_escape(self.body)
        return self.stored

    @classmethod
    def from_model(cls, section: SectionModel | Mapping[str, Any]) -> Section:
        pk = column(section, "id")
        html, plain_text = column(section, "html"), column(section, "plain_text")
        return from_row(
            cls,
            section,
            id=to_global_id("Section", pk),
            pk=pk,
            # NULL only if some write path forgot to render (a bug): rendered on demand then.
            stored=None
            if html is None or plain_text is None
            else Rendered(html=html, plain_text=plain_text),
        )


@strawberry.type(description="A section as it was in a revision.")
class RevisionSection:
    heading: str | None
    anchor: str
    body: str


@strawberry.type(description="A post as it was right after one change. Revisions never change.")
class Revision:
    id: strawberry.ID = strawberry.field(description="Pass it to `restoreRevision`.")
    editor_id: strawberry.Private[int | None]
    pk: strawberry.Private[int]
    post_id: strawberry.Private[int]
    version: int = strawberry.field(description="The post's version after this change.")
    created_at: datetime
    mutation: str = strawberry.field(
        description="What made the change: `updatePost`, `moveSection`, `scheduledPublish`, "
        "`import`..."
    )
    title: str
    slug: str
    excerpt: str
    status: PostStatus  # type: ignore[valid-type]
    published_at: datetime | None
    tags: list[str] = strawberry.field(description="The post's tag slugs at the time.")
    sections: list[RevisionSection]
    diff: RevisionDiff = strawberry.field(
        resolver=resolve_revision_diff,
        description="What changed from another revision of this post to this one.",
    )

    @strawberry.field(description="Who made the change; null for the scheduler and `cms import`.")
    async def editor(self, info: Info) -> Author | None:
        if self.editor_id is None:
            return None
        author = await info.context.loaders.author_by_id.load(self.editor_id)
        return Author.from_model(author) if author else None

    @classmethod
    def from_model(cls, revision: RevisionModel, snapshot: Snapshot) -> Revision:
        published_at = snapshot["published_at"]
        return cls(
            id=to_global_id("Revision", revision.id),
            editor_id=revision.editor_id,
            pk=revision.id,
            post_id=revision.post_id,
            version=revision.version,
            created_at=revision.created_at,
            mutation=revision.mutation,
            title=snapshot["title"],
            slug=snapshot["slug"],
            excerpt=snapshot["excerpt"],
            status=PostStatusModel(snapshot["status"]),
            published_at=datetime.fromisoformat(published_at) if published_at else None,
            tags=list(snapshot["tags"]),
            sections=[
                RevisionSection(heading=s["heading"], anchor=s["anchor"], body=s["body"])
                for s in snapshot["sections"]
            ],
        )


async def resolve_revisions(
    root: Any, info: Info, first: int | None = None, after: str | None = None
) -> Connection[Revision] | None:
    """The revisions of ``root`` (a Post, perhaps as it was at some moment), newest first."""
    queryset = await revision_service.revisions_of(info.context.viewer, post_id=root.pk)
    page = await build_connection(
        queryset,
        sort_key=revision_service.NEWEST_FIRST,
        settings=info.context.settings,
        convert=lambda revision: revision,
        first=first,
        after=after,
    )
    # Their section bodies are stored apart, once each: one more query for the whole page.
    snapshots = await load_snapshots([edge.node for edge in page.edges])
    return Connection(
        edges=[
            Edge(cursor=edge.cursor, node=Revision.from_model(edge.node, snapshots[edge.node.id]))
            for edge in page.edges
        ],
        page_info=page.page_info,
        count_rows=page.count_rows,
    )


NEWEST_FIRST = SortKey((("id", True),))


@strawberry.type(description="A token that lets its holder read one post. Its secret is not kept.")
class PreviewToken:
    id: strawberry.ID = strawberry.field(description="Pass it to `revokePreviewToken`.")
    created_by_id: strawberry.Private[int | None]
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None

    @strawberry.field(description="Who issued it; null if that account was deleted.")
    async def created_by(self, info: Info) -> Author | None:
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


def minutes_to_read(title: str, sections: Sequence[Mapping[str, Any]]) -> int:
    """``Post.readingTimeMinutes``: the title and every section's heading and body."""
    return reading_time_minutes([title, *(f"{s['heading'] or ''} {s['body']}" for s in sections)])


# Both reading-time fields, on both paths: the title and the sections' headings and bodies.
READING_TIME = Derived(minutes_to_read, ("title",), "sections", ("heading", "body"))


@stored_in(PostModel)
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

    @strawberry.field(metadata=loads(ToOne("author")))
    async def author(self, info: Info) -> Author:
        author = await info.context.loaders.author_by_id.load(self.author_id)
        assert author is not None, "posts.author_id is a non-null foreign key"  # noqa: S101
        return Author.from_model(author)

    @strawberry.field(description="The post's tags, by name.", metadata=loads(ToMany("tags")))
    async def tags(self, info: Info) -> list[Tag]:
        if self.past is not None:
            return await past_tags(self.past)
        return [
            Tag.from_model(tag) for tag in await info.context.loaders.tags_by_post_id.load(self.pk)
        ]

    @strawberry.field(
        description="The post's sections, in reading order.", metadata=loads(ToMany("sections"))
    )
    async def sections(self, info: Info) -> list[Section]:
        if self.past is not None:
            return past_sections(self.pk, self.past)
        sections = await info.context.loaders.sections_by_post_id.load(self.pk)
        return [Section.from_model(section) for section in sections]

    @strawberry.field(
        description="Estimated minutes to read the whole post.", metadata=loads(READING_TIME)
    )
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
        metadata=loads(READING_TIME),
    )
    async def reading_time(self, info: Info) -> int | None:
        return await self._minutes_to_read(info)

    async def _minutes_to_read(self, info: Info) -> int:
        sections: Sequence[Mapping[str, Any]]
        if self.past is not None:
            sections = self.past.sections
        else:
            loaded = await info.context.loaders.sections_by_post_id.load(self.pk)
            sections = [{"heading": s.heading, "body": s.body} for s in loaded]
        return int(READING_TIME.compute(self.title, sections))

    @classmethod
    def from_model(cls, post: PostModel | Mapping[str, Any]) -> Post:
        pk = column(post, "id")
        return from_row(cls, post, id=to_global_id("Post", pk), pk=pk)


PostListResolver = Callable[..., Awaitable[Connection[Post]]]


def post_list_field(parent: ParentKind | None, description: str) -> Any:
    """A list of visible posts: every one (``Query.posts``), or those of the tag or author it
    hangs off; declared as such for the compiled path, resolved by :func:`post_list`."""
    declared = ConnectionOf("posts", parent)
    return strawberry.field(
        resolver=post_list(declared.parent), description=description, metadata=loads(declared)
    )


def post_list(parent: ParentKind | None) -> PostListResolver:
    """The resolver of a list of visible posts: every one, or those of the tag or author it
    hangs off. Each field names its parent kind; the arguments are declared here once for all
    three lists."""

    async def resolve(
        root: Any,
        info: Info,
        first: Annotated[int | None, strawberry.argument(description=PAGE_ARGUMENT_HELP)] = None,
        after: Annotated[str | None, strawberry.argument(description=AFTER_HELP)] = None,
        last: Annotated[int | None, strawberry.argument(description=PAGE_ARGUMENT_HELP)] = None,
        before: Annotated[str | None, strawberry.argument(description=BEFORE_HELP)] = None,
        filter: PostFilter | None = None,
        order_by: PostOrder = PostOrdering.PUBLISHED_AT_DESC,  # type: ignore[valid-type]
    ) -> Connection[Post]:
        rows = await read_posts(
            info,
            None if parent is None else (parent, root.pk),
            first=first,
            after=after,
            last=last,
            before=before,
            filter=filter,
            order_by=order_by,
        )
        return post_connection(rows)

    return resolve


@stored_in(TagModel)
@strawberry.type(description="A tag groups posts on one subject.")
class Tag(Node):
    pk: strawberry.Private[int]
    name: str
    slug: str
    description: str

    posts: Connection[Post] = post_list_field("tag", "This tag's visible posts.")

    @strawberry.field(
        description="How many visible posts carry this tag.", metadata=loads(PostCount())
    )
    async def post_count(self, info: Info) -> int:
        return await info.context.loaders.post_count_by_tag_id.load(self.pk)

    @classmethod
    def from_model(cls, tag: TagModel | Mapping[str, Any]) -> Tag:
        pk = column(tag, "id")
        return from_row(cls, tag, id=to_global_id("Tag", pk), pk=pk)


@stored_in(AuthorModel)
@strawberry.type(description="Someone who writes posts.")
class Author(Node):
    pk: strawberry.Private[int]
    name: str
    slug: str
    bio: str

    posts: Connection[Post] = post_list_field("author", "This author's visible posts.")

    @classmethod
    def from_model(cls, author: AuthorModel | Mapping[str, Any]) -> Author:
        pk = column(author, "id")
        return from_row(cls, author, id=to_global_id("Author", pk), pk=pk)


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
    tags = await TagModel.filter(id__in=past.tag_ids).order_by("name", "id")
    return [Tag.from_model(tag) for tag in tags]


def post_connection(rows: PostRows) -> Connection[Post]:
    """A page of posts read by :func:`~cms.graphql.posts.lists.read_posts`, as a connection."""
    page = rows.page
    return Connection(
        edges=[
            # A row has every column of the post table, which is all from_row reads.
            Edge(cursor=cursor, node=Post.from_model(row))
            for row, cursor in zip(page.rows, page.cursors, strict=True)
        ],
        page_info=PageInfo(
            has_next_page=page.has_next_page,
            has_previous_page=page.has_previous_page,
            start_cursor=page.cursors[0] if page.cursors else None,
            end_cursor=page.cursors[-1] if page.cursors else None,
        ),
        count_rows=rows.count_rows,
    )
