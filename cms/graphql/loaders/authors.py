"""Batch loaders for authors: every author a request needs, in one statement."""

from __future__ import annotations

from collections.abc import Sequence

from strawberry.dataloader import DataLoader

from cms.cache.tracking import record_authors
from cms.graphql.loaders.posts import column_names, rows_as
from cms.models import Author


class AuthorByIdLoader(DataLoader[int, Author | None]):
    def __init__(self) -> None:
        super().__init__(load_fn=self._load)

    @staticmethod
    async def _load(ids: Sequence[int]) -> list[Author | None]:
        record_authors(ids)
        # Plain rows that read like Author instances (see loaders.posts.rows_as).
        rows = await Author.filter(id__in=ids).values(*column_names(Author))
        found = {author.id: author for author in rows_as(Author, rows)}
        return [found.get(author_id) for author_id in ids]
