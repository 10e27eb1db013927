"""Optimistic concurrency under real contention, on PostgreSQL.

Fifty `updatePost` calls race with the same `expectedVersion`, through the app, each in its own
transaction on a pooled connection (Tortoise's asyncpg pool holds 5, so five transactions at a
time contend for the post's row). Exactly one may win; in a typical run 20 to 30 of the losers
are stopped by the conditional UPDATE itself, the rest by reading the new version first.
"""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest

from cms.graphql.node import to_global_id
from cms.models import Post, Revision, Role, Section
from cms.services import editing
from tests.conftest import POSTGRES_URL, GraphQLRunner, SignIn
from tests.factories import make_post

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not POSTGRES_URL, reason="needs PostgreSQL: set CMS_TEST_POSTGRES_URL"),
]

WRITERS = 50

UPDATE_POST = """
mutation Update($input: UpdatePostInput!) {
  updatePost(input: $input) {
    post { title version }
    currentVersion
    errors { code field }
  }
}
"""


async def test_fifty_concurrent_updates_with_one_version_apply_exactly_once(
    graphql: GraphQLRunner, sign_in: SignIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    session = await sign_in(Role.EDITOR)
    post = await make_post(title="Original", sections=((None, "original"),))
    revisions_before = await Revision.filter(post_id=post.id).count()

    # Count the losers turned away by the conditional UPDATE itself (rather than by the cheap
    # early read), to show that the race reached the database.
    stopped_by_update = 0
    real_conflict = editing._conflict

    async def counting_conflict(post_id: int, expected: int) -> Exception:
        nonlocal stopped_by_update
        stopped_by_update += 1
        return await real_conflict(post_id, expected)

    monkeypatch.setattr(editing, "_conflict", counting_conflict)

    async def write(n: int) -> dict:
        return await graphql(
            UPDATE_POST,
            {
                "input": {
                    "id": to_global_id("Post", post.id),
                    "expectedVersion": 1,
                    "title": f"Writer {n}",
                    "sections": [{"body": f"written by {n}"}],
                }
            },
            headers=session.headers,
        )

    bodies = await asyncio.gather(*(write(n) for n in range(WRITERS)))

    payloads = [body["data"]["updatePost"] for body in bodies]
    outcomes = Counter("applied" if not p["errors"] else p["errors"][0]["code"] for p in payloads)
    assert outcomes == {"applied": 1, "CONFLICT": WRITERS - 1}
    [winner] = [p for p in payloads if not p["errors"]]
    assert winner["post"]["version"] == 2
    assert {p["currentVersion"] for p in payloads if p["errors"]} == {2}
    assert stopped_by_update >= 1

    stored = await Post.get(id=post.id)
    assert (stored.title, stored.version) == (winner["post"]["title"], 2)
    writer = winner["post"]["title"].removeprefix("Writer ")
    assert [s.body for s in await Section.filter(post_id=post.id)] == [f"written by {writer}"]
    assert await Revision.filter(post_id=post.id).count() == revisions_before + 1
    revision = await Revision.get(post_id=post.id, version=2)
    assert revision.snapshot["title"] == winner["post"]["title"]
