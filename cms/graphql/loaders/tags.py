"""Batch loaders for tags: a tag's visible post count, for many tags in one statement."""

from __future__ import annotations

from collections.abc import Sequence

from strawberry.dataloader import DataLoader
from tortoise.functions import Count

from cms.cache.tracking import record, tag_posts_key
from cms.models import PostTag
from cms.services.visibility import Visibility


class PostCountByTagIdLoader(DataLoader[int, int]):
    def __init__(self, visibility: Visibility) -> None:
        super().__init__(load_fn=self._load)
        self.visibility = visibility

    async def _load(self, tag_ids: Sequence[int]) -> list[int]:
        # A count is a summary of the tag's post list: it changes whenever that list does.
        record(*(tag_posts_key(tag_id) for tag_id in tag_ids))
        rows = (
            await PostTag.filter(self.visibility.post_filter("post__"), tag_id__in=tag_ids)
            .annotate(count=Count("id"))
            .group_by("tag_id")
            .values("tag_id", "count")
        )
        counts = {row["tag_id"]: row["count"] for row in rows}
        return [counts.get(tag_id, 0) for tag_id in tag_ids]
