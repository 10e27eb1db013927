"""Batch loaders for what hangs off a post: its sections and its tags, for many posts at once."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from strawberry.dataloader import DataLoader

from cms.models import PostTag, Section, Tag


class SectionsByPostIdLoader(DataLoader[int, list[Section]]):
    def __init__(self) -> None:
        super().__init__(load_fn=self._load)

    @staticmethod
    async def _load(post_ids: Sequence[int]) -> list[list[Section]]:
        grouped: defaultdict[int, list[Section]] = defaultdict(list)
        for section in await Section.filter(post_id__in=post_ids).order_by("post_id", "position"):
            grouped[section.post_id].append(section)
        return [grouped[post_id] for post_id in post_ids]


class TagsByPostIdLoader(DataLoader[int, list[Tag]]):
    def __init__(self) -> None:
        super().__init__(load_fn=self._load)

    @staticmethod
    async def _load(post_ids: Sequence[int]) -> list[list[Tag]]:
        grouped: defaultdict[int, list[Tag]] = defaultdict(list)
        links = await PostTag.filter(post_id__in=post_ids).select_related("tag")
        for link in sorted(links, key=lambda link: (link.tag.name, link.tag.id)):
            grouped[link.post_id].append(link.tag)
        return [grouped[post_id] for post_id in post_ids]
