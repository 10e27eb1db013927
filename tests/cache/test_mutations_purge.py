"""No stale read after a real mutation: the cached answers a write affects are gone by the time
the mutation's response arrives."""

from __future__ import annotations

from typing import Any

from cms.graphql.node import to_global_id
from cms.models import Role
from tests.cache.conftest import CachedApp
from tests.conftest import SignIn
from tests.factories import make_post, make_tag

TAG_TITLES = """
query Tag($slug: String!) { tag(slug: $slug) { postCount posts { edges { node { title } } } } }
"""
UPDATE = """
mutation Update($input: UpdatePostInput!) {
  updatePost(input: $input) { post { version } errors { code message } }
}
"""
UNPUBLISH = """
mutation Unpublish($input: UnpublishPostInput!) {
  unpublishPost(input: $input) { post { status } errors { code message } }
}
"""


def tag_titles(response: Any) -> list[str]:
    body = response.json()
    assert "errors" not in body, body
    return [edge["node"]["title"] for edge in body["data"]["tag"]["posts"]["edges"]]


async def mutate(
    app: CachedApp, headers: dict[str, str], query: str, input_: dict[str, Any]
) -> None:
    response = await app.post(query, {"input": input_}, headers=headers)
    body = response.json()
    assert "errors" not in body, body
    payload = next(iter(body["data"].values()))
    assert payload["errors"] == [], payload


async def test_retitling_and_retagging_a_post_is_seen_at_once(
    cached: CachedApp, sign_in: SignIn
) -> None:
    editor = await sign_in(Role.EDITOR)
    news = await make_tag("News")
    await make_tag("Sport")
    post = await make_post(title="Before", tags=(news,))
    assert tag_titles(await cached.post(TAG_TITLES, {"slug": "news"})) == ["Before"]
    assert tag_titles(await cached.post(TAG_TITLES, {"slug": "sport"})) == []

    await mutate(
        cached,
        editor.headers,
        UPDATE,
        {
            "id": to_global_id("Post", post.id),
            "expectedVersion": 1,
            "title": "After",
            "tags": ["sport"],
        },
    )

    assert tag_titles(await cached.post(TAG_TITLES, {"slug": "news"})) == []
    assert tag_titles(await cached.post(TAG_TITLES, {"slug": "sport"})) == ["After"]
    counts = await cached.post("{ tags { edges { node { slug postCount } } } }")
    assert [e["node"]["postCount"] for e in counts.json()["data"]["tags"]["edges"]] == [0, 1]


async def test_an_unpublished_post_leaves_every_cached_list(
    cached: CachedApp, sign_in: SignIn
) -> None:
    editor = await sign_in(Role.EDITOR)
    news = await make_tag("News")
    post = await make_post(title="Live", tags=(news,))
    lists = [
        "{ posts { edges { node { title } } } }",
        f'{{ post(slug: "{post.slug}") {{ title }} }}',
    ]
    for query in lists:
        assert "Live" in (await cached.post(query)).text
    assert tag_titles(await cached.post(TAG_TITLES, {"slug": "news"})) == ["Live"]

    await mutate(
        cached,
        editor.headers,
        UNPUBLISH,
        {"id": to_global_id("Post", post.id), "expectedVersion": 1},
    )

    for query in lists:
        assert "Live" not in (await cached.post(query)).text
    assert tag_titles(await cached.post(TAG_TITLES, {"slug": "news"})) == []
