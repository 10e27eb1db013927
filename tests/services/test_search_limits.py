"""Posts far larger than a search index entry can hold are still saved and found."""

from __future__ import annotations

import random

from cms.models import Section
from tests.factories import make_post
from tests.services.test_search_index import found


def distinct_words(count: int, seed: int) -> str:
    rng = random.Random(seed)
    letters = "abcdefghijklmnopqrstuvwxyz"
    return " ".join("".join(rng.choice(letters) for _ in range(9)) for _ in range(count))


async def test_a_post_with_megabytes_of_distinct_words_is_saved_and_searchable() -> None:
    # 1.1 MB of distinct words: past the 1 MB a PostgreSQL tsvector may hold.
    post = await make_post(slug="huge", title="Encyclopedia", sections=((None, "Start."),))
    await Section.create(post=post, position=1, anchor="all", body=distinct_words(110_000, 1))

    assert await found("encyclopedia") == ["huge"]
