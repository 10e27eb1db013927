"""Batch loaders for posts: what hangs off a post (sections, tags) and the post lists that hang
off tags and authors, each for many parents in one statement.

Every loader records the content it read (``cms.cache.tracking``), so that a cached response
knows which changes make it stale.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any, TypeVar, cast

from strawberry.dataloader import DataLoader
from tortoise.models import Model

from cms.cache.tracking import record_posts, record_tags
from cms.models import PostTag, Section, Tag
from cms.services.pagination import PageSpec
from cms.services.post_pages import ParentKind, RowPage, count_posts, fetch_post_pages
from cms.services.posts import PostCriteria, PostOrdering, sort_key_for
from cms.services.visibility import Visibility

ModelT = TypeVar("ModelT", bound=Model)


def rows_as(model: type[ModelT], rows: list[dict[str, Any]]) -> list[ModelT]:
    """Rows that read like instances of ``model``: every column as an attribute.

    The object types' ``from_model`` only read columns, and building real instances (value
    conversion, relation descriptors) costs more than the rest of loading a relation.
    """
    return [cast(ModelT, SimpleNamespace(**row)) for row in rows]


def column_names(model: type[Model]) -> list[str]:
    meta = model._meta
    return list(dict.fromkeys([*meta.fields_db_projection, *(f"{fk}_id" for fk in meta.fk_fields)]))


class SectionsByPostIdLoader(DataLoader[int, list[Section]]):
    def __init__(self) -> None:
        super().__init__(load_fn=self._load)

    @staticmethod
    async def _load(post_ids: Sequence[int]) -> list[list[Section]]:
        # Sections are part of their post: the caller recorded the post already.
        grouped: defaultdict[int, list[Section]] = defaultdict(list)
        rows = (
            await Section.filter(post_id__in=post_ids)
            .order_by("post_id", "position")
            .values(*column_names(Section))
        )
        for section in rows_as(Section, rows):
            grouped[section.post_id].append(section)
        return [grouped[post_id] for post_id in post_ids]


class TagsByPostIdLoader(DataLoader[int, list[Tag]]):
    def __init__(self) -> None:
        super().__init__(load_fn=self._load)

    @staticmethod
    async def _load(post_ids: Sequence[int]) -> list[list[Tag]]:
        grouped: defaultdict[int, list[Tag]] = defaultdict(list)
        columns = column_names(Tag)
        links = (
            await PostTag.filter(post_id__in=post_ids)
            .order_by("tag__name", "tag__id")
            .values("post_id", **{f"tag_{name}": f"tag__{name}" for name in columns})
        )
        tags: dict[int, Tag] = {}
        for link in links:
            tag_id = link["tag_id"]
            tag = tags.get(tag_id)
            if tag is None:
                row = {name: link[f"tag_{name}"] for name in columns}
                tag = tags[tag_id] = rows_as(Tag, [row])[0]
            grouped[link["post_id"]].append(tag)
        record_tags(tags)
        return [grouped[post_id] for post_id in post_ids]


@dataclass(frozen=True)
class PostPageKey:
    """One parent's page of one post list: everything but ``parent_id`` must match to batch."""

    parent: ParentKind
    parent_id: int
    criteria: PostCriteria
    ordering: PostOrdering
    page: PageSpec


class PostPageByParentLoader(DataLoader[PostPageKey, RowPage]):
    """Pages of tags' or authors' post lists; one windowed statement per distinct list shape."""

    def __init__(self, visibility: Visibility) -> None:
        super().__init__(load_fn=self._load)
        self.visibility = visibility

    async def _load(self, keys: Sequence[PostPageKey]) -> list[RowPage]:
        shapes: defaultdict[tuple[ParentKind, PostCriteria, PostOrdering, PageSpec], list[int]]
        shapes = defaultdict(list)
        for key in keys:
            shapes[key.parent, key.criteria, key.ordering, key.page].append(key.parent_id)
        pages: dict[PostPageKey, RowPage] = {}
        for (parent, criteria, ordering, page), parent_ids in shapes.items():
            found = await fetch_post_pages(
                self.visibility,
                criteria,
                sort_key_for(ordering, self.visibility),
                page,
                parent=parent,
                parent_ids=parent_ids,
            )
            for parent_id, rows in found.items():
                pages[PostPageKey(parent, parent_id, criteria, ordering, page)] = rows
                record_posts(row["id"] for row in rows.rows)
        return [pages[key] for key in keys]


@dataclass(frozen=True)
class PostCountKey:
    parent: ParentKind
    parent_id: int
    criteria: PostCriteria


class PostCountByParentLoader(DataLoader[PostCountKey, int]):
    """``totalCount`` of tags' or authors' post lists: one GROUP BY per distinct criteria."""

    def __init__(self, visibility: Visibility) -> None:
        super().__init__(load_fn=self._load)
        self.visibility = visibility

    async def _load(self, keys: Sequence[PostCountKey]) -> list[int]:
        shapes: defaultdict[tuple[ParentKind, PostCriteria], list[int]] = defaultdict(list)
        for key in keys:
            shapes[key.parent, key.criteria].append(key.parent_id)
        counts: dict[PostCountKey, int] = {}
        for (parent, criteria), parent_ids in shapes.items():
            found = await count_posts(
                self.visibility, criteria, parent=parent, parent_ids=parent_ids
            )
            for parent_id, count in found.items():
                counts[PostCountKey(parent, parent_id, criteria)] = count
        return [counts[key] for key in keys]
