"""Batch loaders for authors: every author a request needs, in one statement."""

from __future__ import annotations

from collections.abc import Sequence

from strawberry.dataloader import DataLoader

from cms.models import Author


class AuthorByIdLoader(DataLoader[int, Author | None]):
    def __init__(self) -> None:
        super().__init__(load_fn=self._load)

    @staticmethod
    async def _load(ids: Sequence[int]) -> list[Author | None]:
        found = {author.id: author for author in await Author.filter(id__in=ids)}
        return [found.get(author_id) for author_id in ids]
