"""Revision storage: section bodies stored once per post and content, and its quotas."""

from __future__ import annotations

import random
import string
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import orjson
import pytest

from cms.graphql.node import to_global_id
from cms.models import Post, Revision, RevisionBody, Role, Section
from cms.services.revision_quota import current_limits
from tests.conftest import GraphQLRunner, Session, SignIn

CREATE = """
mutation Create($input: CreatePostInput!) {
  createPost(input: $input) { post { id version } errors { code message } }
}
"""
MOVE = """
mutation Move($input: MoveSectionInput!) {
  moveSection(input: $input) { post { version } errors { code message } }
}
"""
UPDATE_SECTION = """
mutation Edit($input: UpdateSectionInput!) {
  updateSection(input: $input) { post { version } errors { code message field } }
}
"""
RESTORE = """
mutation Restore($input: RestoreRevisionInput!) {
  restoreRevision(input: $input) { post { title version } errors { code message } }
}
"""
REVISIONS = """
query History($slug: String!) {
  post(slug: $slug) {
    revisions(first: 100) { totalCount edges { node { id version sections { body } } } }
  }
}
"""
# A 500 KB post. (More, smaller sections would do as well, but the search index refreshes
# the whole post for each section row written, which makes creating one slow.)
SECTION_COUNT = 40
BODY_CHARS = 12_500


SetLimits = Callable[..., None]


@pytest.fixture
def limits(monkeypatch: pytest.MonkeyPatch) -> Iterator[SetLimits]:
    """``limits(CMS_...="n")``: revision limits for this test (read once per process)."""

    def set_limits(**variables: str) -> None:
        for name, value in variables.items():
            monkeypatch.setenv(name, value)
        current_limits.cache_clear()

    yield set_limits
    current_limits.cache_clear()


def prose(seed: int, length: int = BODY_CHARS) -> str:
    rng = random.Random(seed)
    return "".join(rng.choice(string.ascii_lowercase + "      ") for _ in range(length))


async def revision_bytes() -> int:
    """Every byte the revisions of the database hold: their columns, as JSON, and bodies."""
    total = 0
    for revision in await Revision.all():
        total += len(orjson.dumps(revision.snapshot))
        total += len(orjson.dumps(getattr(revision, "sections", None)))
    for (body,) in await RevisionBody.all().values_list("body"):
        total += len(body.encode())
    return total


async def create_large_post(graphql: GraphQLRunner, session: Session, slug: str) -> int:
    sections = [{"heading": f"Part {i}", "body": prose(i)} for i in range(SECTION_COUNT)]
    body = await graphql(
        CREATE,
        {"input": {"title": "Large", "slug": slug, "sections": sections}},
        headers=session.headers,
    )
    assert body["data"]["createPost"]["errors"] == [], body
    return (await Post.get(slug=slug)).id


async def move(
    graphql: GraphQLRunner, session: Session, section_id: int, version: int, position: int
) -> dict[str, Any]:
    body = await graphql(
        MOVE,
        {
            "input": {
                "sectionId": to_global_id("Section", section_id),
                "expectedVersion": version,
                "position": position,
            }
        },
        headers=session.headers,
    )
    payload: dict[str, Any] = body["data"]["moveSection"]
    return payload


async def test_twenty_moves_of_a_large_post_store_no_body_again(
    graphql: GraphQLRunner, sign_in: SignIn
) -> None:
    session = await sign_in(Role.AUTHOR)
    post_id = await create_large_post(graphql, session, "large")
    first = await Section.get(post_id=post_id, position=0)
    before = await revision_bytes()
    post_bytes = SECTION_COUNT * BODY_CHARS

    for version in range(1, 21):
        payload = await move(graphql, session, first.id, version, version % 2)
        assert payload["errors"] == []

    added = await revision_bytes() - before
    # Each move stores the post's fields and its section index (about 100 bytes a section),
    # never the bodies again: a fifth of one copy of the post for all twenty together.
    assert added < 20 * SECTION_COUNT * 150
    assert added < post_bytes / 5
    assert await RevisionBody.filter(post_id=post_id).count() == SECTION_COUNT


async def test_editing_one_section_stores_that_body_alone_and_history_reads_whole(
    graphql: GraphQLRunner, sign_in: SignIn
) -> None:
    session = await sign_in(Role.AUTHOR)
    post_id = await create_large_post(graphql, session, "large")
    section = await Section.get(post_id=post_id, position=7)
    before = await revision_bytes()

    body = await graphql(
        UPDATE_SECTION,
        {
            "input": {
                "sectionId": to_global_id("Section", section.id),
                "expectedVersion": 1,
                "body": "A new seventh part.",
            }
        },
        headers=session.headers,
    )

    assert body["data"]["updateSection"]["errors"] == []
    assert await revision_bytes() - before < SECTION_COUNT * 150
    assert await RevisionBody.filter(post_id=post_id).count() == SECTION_COUNT + 1
    history = await graphql(REVISIONS, {"slug": "large"}, headers=session.headers)
    newest, oldest = history["data"]["post"]["revisions"]["edges"]
    assert newest["node"]["sections"][7]["body"] == "A new seventh part."
    assert oldest["node"]["sections"][7]["body"] == prose(7)
    assert [s["body"] for s in newest["node"]["sections"][8:]] == [
        prose(i) for i in range(8, SECTION_COUNT)
    ]


async def test_an_author_past_the_hourly_quota_is_throttled_and_nothing_is_written(
    graphql: GraphQLRunner, sign_in: SignIn, limits: SetLimits
) -> None:
    limits(CMS_REVISION_BYTES_PER_HOUR="550000")
    session = await sign_in(Role.AUTHOR)
    post_id = await create_large_post(graphql, session, "large")  # about 505 KB
    section = await Section.get(post_id=post_id, position=0)

    refused = await graphql(
        UPDATE_SECTION,
        {
            "input": {
                "sectionId": to_global_id("Section", section.id),
                "expectedVersion": 1,
                "body": prose(1000, 100 * 1024),
            }
        },
        headers=session.headers,
    )
    moved = await move(graphql, session, section.id, 1, 1)  # small: still fits

    (error,) = refused["data"]["updateSection"]["errors"]
    assert error["code"] == "THROTTLED"
    assert "550000 bytes" in error["message"]
    assert "Try again in" in error["message"]
    assert moved["errors"] == []
    assert moved["post"]["version"] == 2
    assert await Revision.filter(post_id=post_id).count() == 2
    assert not await RevisionBody.filter(body=prose(1000, 100 * 1024)).exists()

    # An hour later the window has room again.
    for revision in await Revision.filter(post_id=post_id):
        await Revision.filter(id=revision.id).update(
            created_at=revision.created_at - timedelta(hours=1, seconds=1)
        )
    again = await graphql(
        UPDATE_SECTION,
        {
            "input": {
                "sectionId": to_global_id("Section", section.id),
                "expectedVersion": 2,
                "body": prose(1000, 100 * 1024),
            }
        },
        headers=session.headers,
    )
    assert again["data"]["updateSection"]["errors"] == []


async def test_a_post_keeps_at_most_the_configured_revisions_oldest_pruned_first(
    graphql: GraphQLRunner, sign_in: SignIn, limits: SetLimits
) -> None:
    limits(CMS_REVISIONS_PER_POST="10")
    session = await sign_in(Role.AUTHOR)
    created = await graphql(
        CREATE,
        {"input": {"title": "Small", "slug": "small", "sections": [{"body": "v1"}]}},
        headers=session.headers,
    )
    post_id = (await Post.get(slug="small")).id
    section = await Section.get(post_id=post_id)
    first_revision = await Revision.get(post_id=post_id, version=1)
    for version in range(1, 11):
        body = await graphql(
            UPDATE_SECTION,
            {
                "input": {
                    "sectionId": to_global_id("Section", section.id),
                    "expectedVersion": version,
                    "body": f"v{version + 1}",
                }
            },
            headers=session.headers,
        )
        assert body["data"]["updateSection"]["errors"] == []

    # The 11th revision went past 10: the oldest tenth and more went, down to 9.
    assert created["data"]["createPost"]["errors"] == []
    versions = (
        await Revision.filter(post_id=post_id).order_by("version").values_list("version", flat=True)
    )
    assert list(versions) == list(range(3, 12))
    bodies = (
        await RevisionBody.filter(post_id=post_id).order_by("body").values_list("body", flat=True)
    )
    assert sorted(bodies) == sorted(f"v{n}" for n in range(3, 12))
    restored = await graphql(
        RESTORE,
        {
            "input": {
                "postId": to_global_id("Post", post_id),
                "revisionId": to_global_id("Revision", first_revision.id),
                "expectedVersion": 11,
            }
        },
        headers=session.headers,
    )
    assert restored["data"]["restoreRevision"]["errors"][0]["code"] == "NOT_FOUND"
