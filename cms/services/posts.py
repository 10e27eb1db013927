"""Reading posts: the filters and orderings every post list understands."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum

from tortoise.expressions import F, Q, Subquery
from tortoise.functions import Coalesce
from tortoise.queryset import QuerySet

from cms.errors import InvalidInput
from cms.models import Author, Post, PostTag
from cms.services.inputs import check_instant, check_slug
from cms.services.pagination import SortKey
from cms.services.visibility import Visibility


class PostOrdering(Enum):
    """The orders a post list can be read in; each ends with the id so that ties are stable."""

    PUBLISHED_AT_DESC = SortKey((("published_at", True), ("id", True)))
    PUBLISHED_AT_ASC = SortKey((("published_at", False), ("id", False)))
    TITLE_ASC = SortKey((("title", False), ("id", False)))
    UPDATED_AT_DESC = SortKey((("updated_at", True), ("id", True)))


_BY_PUBLICATION = (PostOrdering.PUBLISHED_AT_DESC, PostOrdering.PUBLISHED_AT_ASC)


# Drafts may have no published_at, and SQLite and PostgreSQL disagree on where NULLs sort, so
# lists that can hold drafts order on this never-null stand-in: an undated post sorts by when
# it was created. Lists of live posts only keep the plain column, which the index serves.
_DATED_AT = "published_or_created_at"


def sort_key_for(ordering: PostOrdering, visibility: Visibility) -> SortKey:
    """The sort key for ``ordering`` in lists this viewer reads (see ``_DATED_AT``)."""
    if not visibility.sees_unpublished or ordering not in _BY_PUBLICATION:
        return ordering.value
    return SortKey(
        tuple(
            (_DATED_AT if name == "published_at" else name, desc)
            for name, desc in ordering.value.fields
        ),
        computed=((_DATED_AT, Coalesce("published_at", F("created_at"))),),
    )


@dataclass(frozen=True)
class PostCriteria:
    """Which posts a list holds. Every criterion narrows the list; empty criteria keep all."""

    tag: str | None = None
    tags_any: tuple[str, ...] = field(default_factory=tuple)
    author: str | None = None
    published_after: datetime | None = None
    published_before: datetime | None = None
    tag_id: int | None = None
    author_id: int | None = None


MAX_TAGS_ANY = 50


def find_posts(visibility: Visibility, criteria: PostCriteria) -> QuerySet[Post]:
    """The visible posts matching ``criteria``, unordered and unpaginated."""
    check_criteria(criteria)
    queryset = visibility.posts()
    if criteria.tag is not None:
        queryset = queryset.filter(id__in=_posts_tagged(Q(tag__slug=criteria.tag)))
    if criteria.tags_any:
        queryset = queryset.filter(id__in=_posts_tagged(Q(tag__slug__in=criteria.tags_any)))
    if criteria.tag_id is not None:
        queryset = queryset.filter(id__in=_posts_tagged(Q(tag_id=criteria.tag_id)))
    if criteria.author is not None:
        queryset = queryset.filter(
            author_id__in=Subquery(Author.filter(slug=criteria.author).values("id"))
        )
    if criteria.author_id is not None:
        queryset = queryset.filter(author_id=criteria.author_id)
    if criteria.published_after is not None:
        queryset = queryset.filter(published_at__gte=criteria.published_after)
    if criteria.published_before is not None:
        queryset = queryset.filter(published_at__lt=criteria.published_before)
    return queryset


def check_criteria(criteria: PostCriteria) -> None:
    """BAD_USER_INPUT for criteria no query can use (the checks ``find_posts`` makes)."""
    check_slug(criteria.tag, field="tag")
    check_slug(criteria.author, field="author")
    if len(criteria.tags_any) > MAX_TAGS_ANY:
        raise InvalidInput(f"`tagsAny` takes at most {MAX_TAGS_ANY} slugs.", field="tagsAny")
    for slug in criteria.tags_any:
        check_slug(slug, field="tagsAny")
    check_instant(criteria.published_after, field="publishedAfter")
    check_instant(criteria.published_before, field="publishedBefore")


def _posts_tagged(condition: Q) -> Subquery:
    # A subquery rather than a join: a post with two matching tags must appear once.
    return Subquery(PostTag.filter(condition).values("post_id"))


async def get_post(
    visibility: Visibility, *, post_id: int | None = None, slug: str | None = None
) -> Post | None:
    """One visible post by id or slug; None when it does not exist or may not be seen."""
    check_slug(slug, field="slug")
    queryset = visibility.posts()
    if post_id is not None:
        queryset = queryset.filter(id=post_id)
    if slug is not None:
        queryset = queryset.filter(slug=slug)
    return await queryset.first()
