"""The Revision type and the `Post.revisions` list: a post's history, newest first.

Only viewers who may edit a post may read its revisions (they hold every draft it ever had).
Anyone else selecting `revisions` gets null with a top-level error: UNAUTHENTICATED when
anonymous, FORBIDDEN when signed in without the right to edit that post.

The list is read with one statement per post: it is meant for a post's editing screen, not
for selecting under every post of a long list. Revision ids are global ids (``Revision:<pk>``)
to pass to ``restoreRevision``; ``node(id:)`` does not fetch revisions.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry

from cms.graphql.context import Info
from cms.graphql.node import to_global_id
from cms.graphql.pagination import Connection, Edge, build_connection
from cms.graphql.posts.enums import PostStatus
from cms.graphql.posts.revision_diff import RevisionDiff, resolve_revision_diff
from cms.models import PostStatus as PostStatusModel
from cms.models import Revision as RevisionModel
from cms.services import revisions as revision_service
from cms.services.snapshots import Snapshot, load_snapshots

if TYPE_CHECKING:
    from cms.graphql.authors.types import Author


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
    async def editor(
        self, info: Info
    ) -> Annotated[Author, strawberry.lazy("cms.graphql.authors.types")] | None:
        from cms.graphql.authors.types import Author

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
