"""Generated slugs: the next candidate after each refusal by the unique index, within a bound."""

from __future__ import annotations

import pytest
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from cms.errors import Conflict
from cms.models import Tag
from cms.services.slugs import MAX_SLUG_ATTEMPTS, insert_with_free_slug


async def test_a_refused_candidate_gives_way_to_the_next_one() -> None:
    # The read says "news" is free, but the index refuses it: a namesake not yet visible to
    # this transaction holds it. The next read must not offer it again.
    tried: list[str] = []

    async def insert(slug: str) -> Tag:
        tried.append(slug)
        if slug == "news":
            raise IntegrityError("UNIQUE constraint failed: tag.slug")
        return await Tag.create(name="News", slug=slug)

    async with in_transaction():
        tag = await insert_with_free_slug(Tag, "news", insert)
    assert (tried, tag.slug) == (["news", "news-2"], "news-2")
    assert await Tag.all().values_list("slug", flat=True) == ["news-2"]


async def test_a_writer_that_keeps_losing_gives_up_with_a_conflict() -> None:
    attempts = 0

    async def insert(slug: str) -> Tag:
        nonlocal attempts
        attempts += 1
        raise IntegrityError(f"UNIQUE constraint failed: tag.slug ({slug})")

    with pytest.raises(Conflict):
        async with in_transaction():
            await insert_with_free_slug(Tag, "news", insert)
    assert attempts == MAX_SLUG_ATTEMPTS
    assert await Tag.all().count() == 0


async def test_a_violation_of_another_constraint_is_not_retried() -> None:
    attempts = 0

    async def insert(slug: str) -> Tag:
        nonlocal attempts
        attempts += 1
        raise IntegrityError("UNIQUE constraint failed: index 'tag_name_folded_key'")

    with pytest.raises(IntegrityError):
        async with in_transaction():
            await insert_with_free_slug(Tag, "news", insert)
    assert attempts == 1
