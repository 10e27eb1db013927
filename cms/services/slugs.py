"""Slugs made from titles and names (``hello``, ``hello-2``...), unique under concurrency.

A generated slug is chosen by reading the slugs taken so far, and two requests making the same
title at the same moment read the same answer. The unique index on the slug column settles the
race: ``insert_with_free_slug`` inserts inside a savepoint, and when the index refuses the
candidate it reads again and moves on to the next one. A slug the client chose is never
changed this way; losing it is a CONFLICT.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import TypeVar

from slugify import slugify
from tortoise.exceptions import IntegrityError
from tortoise.models import Model
from tortoise.transactions import in_transaction

from cms.errors import Conflict
from cms.services.inputs import MAX_SLUG_LENGTH

ModelT = TypeVar("ModelT", bound=Model)

# Each refused candidate means a namesake committed meanwhile; a writer that loses this many
# races in a row is under a flood of namesakes and is told to try again rather than looping.
MAX_SLUG_ATTEMPTS = 50


def is_slug_clash(exc: IntegrityError) -> bool:
    """Whether the unique index on a slug column refused the write."""
    # SQLite names the column ("UNIQUE constraint failed: post.slug"), PostgreSQL the index
    # ("post_slug_key"); no other unique index of these tables has "slug" in its name.
    return "slug" in str(exc).lower()


def slug_base(text: str) -> str:
    """The slug ``text`` suggests, short enough to take a ``-NNN`` suffix; never empty."""
    # Leave room for a suffix such as "-9999" within the column.
    return slugify(text, max_length=MAX_SLUG_LENGTH - 5, word_boundary=True) or "untitled"


async def free_slug(
    model: type[Model], base: str, *, exclude_id: int | None = None, taken: Iterable[str] = ()
) -> str:
    """``base`` if no row of ``model`` has it, else the first free ``base-2``, ``base-3``...

    ``taken`` adds slugs to avoid that the read may not see yet.
    """
    queryset = model.filter(slug__startswith=base)
    if exclude_id is not None:
        queryset = queryset.exclude(id=exclude_id)
    used = {row["slug"] for row in await queryset.values("slug")} | set(taken)
    return next(candidate for candidate in _candidates(base) if candidate not in used)


async def insert_with_free_slug(
    model: type[ModelT], base: str, insert: Callable[[str], Awaitable[ModelT]]
) -> ModelT:
    """``insert(slug)`` with the first free slug from ``base`` that the unique index accepts.

    Call it inside a transaction: each attempt runs in a savepoint of it, so that a refused
    insert leaves the transaction usable (PostgreSQL aborts a transaction on any error).
    """
    refused: set[str] = set()
    for _ in range(MAX_SLUG_ATTEMPTS):
        candidate = await free_slug(model, base, taken=refused)
        try:
            async with in_transaction():
                return await insert(candidate)
        except IntegrityError as exc:
            if not is_slug_clash(exc):
                raise
            refused.add(candidate)
    raise Conflict(
        f"Too many items named like {base!r} are being created at once; try again.",
        field="slug",
    )


def _candidates(base: str) -> Iterable[str]:
    yield base
    n = 2
    while True:
        suffix = f"-{n}"
        # Never longer than the column, however many namesakes came before.
        yield base[: MAX_SLUG_LENGTH - len(suffix)].rstrip("-") + suffix
        n += 1
