"""Arguments of post lists (filters, orders) and the inputs of the post mutations.

Mutation inputs name objects by global id. In update inputs an omitted or null field is left
as it is; to empty an excerpt, send ``""``.
"""

from __future__ import annotations

from datetime import datetime

import strawberry

from cms.graphql.node import pk_of
from cms.graphql.posts.enums import PostStatus
from cms.models import PostStatus as PostStatusModel
from cms.services.authoring import PostChanges
from cms.services.posts import PostCriteria, PostOrdering
from cms.services.validation import SectionInput as SectionFields

EXPECTED_VERSION_HELP = (
    "The post's `version` as you last read it. If it has changed since, nothing is written "
    "and the payload has a CONFLICT error and `currentVersion`."
)

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


@strawberry.input(description="A section to write: markdown under an optional heading.")
class SectionInput:
    body: str = strawberry.field(description="Markdown, at most 100 KB.")
    heading: str | None = strawberry.field(
        default=None, description="At most 200 characters; null or blank for no heading."
    )

    def to_fields(self) -> SectionFields:
        return SectionFields(body=self.body, heading=self.heading)


@strawberry.input
class CreatePostInput:
    title: str = strawberry.field(description="1 to 200 characters.")
    slug: str | None = strawberry.field(
        default=None,
        description="Lowercase ASCII words joined by dashes, at most 80 characters. "
        "Made from the title when omitted (`hello`, then `hello-2`...).",
    )
    excerpt: str = strawberry.field(default="", description="At most 1000 characters.")
    tags: list[str] = strawberry.field(
        default_factory=list, description="Slugs of existing tags (at most 50)."
    )
    sections: list[SectionInput] = strawberry.field(
        default_factory=list, description="In reading order (at most 200)."
    )
    status: PostStatus = strawberry.field(  # type: ignore[valid-type]
        default=PostStatusModel.DRAFT,
        description="DRAFT or PUBLISHED (published now); schedule with `publishPost(at:)`.",
    )


@strawberry.input
class UpdatePostInput:
    id: strawberry.ID
    expected_version: int = strawberry.field(description=EXPECTED_VERSION_HELP)
    title: str | None = None
    slug: str | None = None
    excerpt: str | None = None
    tags: list[str] | None = strawberry.field(
        default=None, description="Replaces the post's tags (slugs of existing tags)."
    )
    sections: list[SectionInput] | None = strawberry.field(
        default=None, description="Replaces every section; the new sections get new ids."
    )
    author_id: strawberry.ID | None = strawberry.field(
        default=None, description="Hands the post to another author (editors and admins)."
    )

    def to_changes(self) -> PostChanges:
        return PostChanges(
            title=self.title,
            slug=self.slug,
            excerpt=self.excerpt,
            tags=self.tags,
            sections=None if self.sections is None else [s.to_fields() for s in self.sections],
            author_id=None
            if self.author_id is None
            else pk_of(self.author_id, "Author", field="authorId"),
        )


@strawberry.input(description="`expectedVersion` is checked when given.")
class DeletePostInput:
    id: strawberry.ID
    expected_version: int | None = strawberry.field(default=None, description=EXPECTED_VERSION_HELP)


@strawberry.input(description="`expectedVersion` is checked when given.")
class RestorePostInput:
    id: strawberry.ID
    expected_version: int | None = strawberry.field(default=None, description=EXPECTED_VERSION_HELP)


@strawberry.input
class PublishPostInput:
    id: strawberry.ID
    expected_version: int = strawberry.field(description=EXPECTED_VERSION_HELP)
    at: datetime | None = strawberry.field(
        default=None,
        description="When readers see it, with a time zone. In the future: the post is "
        "SCHEDULED until then. Omitted: now.",
    )


@strawberry.input
class UnpublishPostInput:
    id: strawberry.ID
    expected_version: int = strawberry.field(description=EXPECTED_VERSION_HELP)


@strawberry.input
class AddSectionInput:
    post_id: strawberry.ID
    expected_version: int = strawberry.field(description=EXPECTED_VERSION_HELP)
    section: SectionInput
    position: int | None = strawberry.field(
        default=None, description="0 puts it first; omitted puts it last."
    )


@strawberry.input
class UpdateSectionInput:
    section_id: strawberry.ID
    expected_version: int = strawberry.field(description=EXPECTED_VERSION_HELP)
    heading: str | None = strawberry.field(
        default=None, description="Omitted or null: unchanged. Empty: the heading is removed."
    )
    body: str | None = None


@strawberry.input
class MoveSectionInput:
    section_id: strawberry.ID
    expected_version: int = strawberry.field(description=EXPECTED_VERSION_HELP)
    position: int = strawberry.field(description="The new position; 0 is first.")


@strawberry.input
class DeleteSectionInput:
    section_id: strawberry.ID
    expected_version: int = strawberry.field(description=EXPECTED_VERSION_HELP)


@strawberry.input
class RestoreRevisionInput:
    post_id: strawberry.ID
    revision_id: strawberry.ID
    expected_version: int = strawberry.field(description=EXPECTED_VERSION_HELP)


@strawberry.input
class CreatePreviewTokenInput:
    post_id: strawberry.ID
    expires_in: int = strawberry.field(
        description="Seconds the token stays valid: 1 to 604800 (7 days)."
    )
