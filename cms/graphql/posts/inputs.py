"""Arguments that narrow and order post lists."""

from __future__ import annotations

from datetime import datetime

import strawberry

from cms.services.posts import PostCriteria, PostOrdering

PostOrder = strawberry.enum(
    PostOrdering,
    name="PostOrder",
    description="How a post list is ordered; ties are broken by id, so cursors stay stable.",
)


@strawberry.input(description="Narrows a post list; every given criterion must hold.")
class PostFilter:
    tag: str | None = strawberry.field(default=None, description="Only posts with this tag slug.")
    tags_any: list[str] | None = strawberry.field(
        default=None, description="Only posts with at least one of these tag slugs."
    )
    author: str | None = strawberry.field(
        default=None, description="Only this author's posts (slug)."
    )
    published_after: datetime | None = strawberry.field(
        default=None, description="Published at or after this moment."
    )
    published_before: datetime | None = strawberry.field(
        default=None, description="Published strictly before this moment."
    )

    def to_criteria(
        self, *, tag_id: int | None = None, author_id: int | None = None
    ) -> PostCriteria:
        return PostCriteria(
            tag=self.tag,
            tags_any=tuple(self.tags_any or ()),
            author=self.author,
            published_after=self.published_after,
            published_before=self.published_before,
            tag_id=tag_id,
            author_id=author_id,
        )
