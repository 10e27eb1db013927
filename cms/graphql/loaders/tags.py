"""Batch loaders for tags: a tag's visible post count, for many tags at once."""

from __future__ import annotations

from collections.abc import Sequence

from strawberry.dataloader import DataLoader

from cms.cache.tracking import record, tag_posts_key
from cms.services.post_pages import count_posts
from cms.services.posts import PostCriteria
from cms.services.visibility import Visibility


class PostCountByTagIdLoader(DataLoader[int, int]):
    def __init__(self, visibility: Visibility) -> None:
        super().__init__(load_fn=self._load)
        self.visibility = visibility

    async def _load(self, tag_ids: Sequence[int]) -> list[int]:
        # A count is a summary of the tag's post list: it changes whenever that list does.
        record(*(tag_posts_key(tag_id) for tag_id in tag_ids))
        # The count of the tag's whole post list, as its `posts { totalCount }` counts it.
        counts = await count_posts(
            self.visibility, PostCriteria(), parent="tag", parent_ids=tag_ids
        )
        return [counts[tag_id] for tag_id in tag_ids]
