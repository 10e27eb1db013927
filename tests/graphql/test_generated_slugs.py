"""Generated slugs under real concurrency: namesakes created at once all succeed.

Thirty `createPost` (and `createTag`) calls with one title race through the app. On
PostgreSQL each runs in its own transaction on a pooled connection, so several pick the same
candidate slug and all but one hit the unique index; on SQLite they queue for the one writer.
Every call must succeed with a slug of its own (`title`, `title-2`, ...). Only a slug the
client chose itself may come back as CONFLICT. Two tags whose names differ only in case
cannot both be created, even at the same instant: the database refuses the second.
"""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest
from tortoise.exceptions import IntegrityError

from cms.graphql.node import to_global_id
from cms.models import Post, Revision, Role, Tag
from cms.services import slugs
from tests.conftest import POSTGRES_URL, GraphQLRunner, SignIn
from tests.factories import make_post, make_tag

WRITERS = 30
ERRORS = "errors { code field }"
CREATE_POST = f"""
mutation Create($input: CreatePostInput!) {{
  createPost(input: $input) {{ post {{ slug }} {ERRORS} }}
}}
"""
CREATE_TAG = f"""
mutation Create($input: CreateTagInput!) {{
  createTag(input: $input) {{ tag {{ slug }} {ERRORS} }}
}}
"""
UPDATE_TAG = f"""
mutation Update($input: UpdateTagInput!) {{
  updateTag(input: $input) {{ tag {{ name }} {ERRORS} }}
}}
"""
EXPECTED_SLUGS = {"same-title"} | {f"same-title-{n}" for n in range(2, WRITERS + 1)}


async def test_thirty_concurrent_posts_with_one_title_all_get_distinct_slugs(
    graphql: GraphQLRunner, sign_in: SignIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    session = await sign_in(Role.AUTHOR)
    # Count the candidates the unique index refused, to show that the race reached it.
    refused = 0
    real_is_slug_clash = slugs.is_slug_clash

    def counting(exc: IntegrityError) -> bool:
        nonlocal refused
        refused += 1
        return real_is_slug_clash(exc)

    monkeypatch.setattr(slugs, "is_slug_clash", counting)
    bodies = await asyncio.gather(
        *(
            graphql(CREATE_POST, {"input": {"title": "Same title"}}, headers=session.headers)
            for _ in range(WRITERS)
        )
    )
    payloads = [body["data"]["createPost"] for body in bodies]
    assert [p["errors"] for p in payloads] == [[]] * WRITERS
    assert {p["post"]["slug"] for p in payloads} == EXPECTED_SLUGS
    assert {post.slug for post in await Post.all()} == EXPECTED_SLUGS
    # Each post was written once, with one revision: no half-applied attempts left behind.
    assert await Revision.all().count() == WRITERS
    # SQLite runs one transaction at a time in a process, so there nobody loses the race.
    assert refused >= 1 if POSTGRES_URL else refused == 0


async def test_a_slug_the_client_chose_still_conflicts(
    graphql: GraphQLRunner, sign_in: SignIn
) -> None:
    session = await sign_in(Role.AUTHOR)
    await make_post(slug="taken")
    body = await graphql(
        CREATE_POST, {"input": {"title": "Other", "slug": "taken"}}, headers=session.headers
    )
    assert body["data"]["createPost"] == {
        "post": None,
        "errors": [{"code": "CONFLICT", "field": "slug"}],
    }


async def test_thirty_concurrent_tags_with_one_slug_base_all_get_distinct_slugs(
    graphql: GraphQLRunner, sign_in: SignIn
) -> None:
    session = await sign_in(Role.EDITOR)
    # Distinct names (names are unique) that make the same slug.
    names = ["Same title" + "!" * n for n in range(WRITERS)]
    bodies = await asyncio.gather(
        *(graphql(CREATE_TAG, {"input": {"name": name}}, headers=session.headers) for name in names)
    )
    payloads = [body["data"]["createTag"] for body in bodies]
    assert [p["errors"] for p in payloads] == [[]] * WRITERS
    assert {p["tag"]["slug"] for p in payloads} == EXPECTED_SLUGS


async def test_concurrent_tags_named_alike_are_created_once(
    graphql: GraphQLRunner, sign_in: SignIn
) -> None:
    session = await sign_in(Role.EDITOR)
    # Same name in other cases, each with its own explicit slug: only the name can clash.
    names = ["Python", "python", "PYTHON", "pYthon", "PyThOn"] * 2
    bodies = await asyncio.gather(
        *(
            graphql(
                CREATE_TAG, {"input": {"name": name, "slug": f"py-{n}"}}, headers=session.headers
            )
            for n, name in enumerate(names)
        )
    )
    errors = Counter(str(body["data"]["createTag"]["errors"]) for body in bodies)
    assert errors == {"[]": 1, str([{"code": "CONFLICT", "field": "name"}]): len(names) - 1}
    assert await Tag.all().count() == 1


async def test_concurrent_renames_to_one_name_apply_once(
    graphql: GraphQLRunner, sign_in: SignIn
) -> None:
    session = await sign_in(Role.EDITOR)
    tags = [await make_tag(f"Tag {n}", slug=f"tag-{n}") for n in range(6)]
    bodies = await asyncio.gather(
        *(
            graphql(
                UPDATE_TAG,
                {"input": {"id": to_global_id("Tag", tag.id), "name": name}},
                headers=session.headers,
            )
            for tag, name in zip(tags, ["Python", "python", "PYTHON"] * 2, strict=True)
        )
    )
    errors = Counter(str(body["data"]["updateTag"]["errors"]) for body in bodies)
    assert errors == {"[]": 1, str([{"code": "CONFLICT", "field": "name"}]): len(tags) - 1}
    assert await Tag.filter(name__iexact="python").count() == 1
