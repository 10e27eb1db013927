"""HTTP caching: ETag and 304, Cache-Control and Surrogate-Key, persisted queries over GET and
POST, and the cost figures of CMS_DEBUG_TIMING."""

from __future__ import annotations

import hashlib
from typing import Any

import orjson

from cms.models import Role
from tests.cache.conftest import CachedApp, StartApp
from tests.conftest import SignIn
from tests.factories import make_author, make_post, make_tag

TAG_POSTS = (
    'query TagPosts { tag(slug: "news") { name posts(first: 5) { edges { node { title } } } } }'
)
SHA = hashlib.sha256(TAG_POSTS.encode()).hexdigest()


def apq(sha: str = SHA) -> dict[str, Any]:
    return {"persistedQuery": {"version": 1, "sha256Hash": sha}}


async def make_content() -> dict[str, int]:
    news = await make_tag("News")
    author = await make_author()
    post = await make_post(title="Hello", tags=(news,), author=author)
    return {"tag": news.id, "post": post.id, "author": author.id}


async def test_a_get_query_answers_a_matching_if_none_match_with_304(cached: CachedApp) -> None:
    await make_content()
    first = await cached.client.get("/graphql", params={"query": TAG_POSTS})
    etag = first.headers["etag"]
    assert etag.startswith('"')  # a strong validator
    assert etag.endswith('"')

    revalidated = await cached.client.get(
        "/graphql", params={"query": TAG_POSTS}, headers={"If-None-Match": etag}
    )
    assert revalidated.status_code == 304
    assert revalidated.content == b""
    assert revalidated.headers["etag"] == etag

    other = await cached.client.get(
        "/graphql", params={"query": TAG_POSTS}, headers={"If-None-Match": '"stale"'}
    )
    assert other.status_code == 200
    assert other.content == first.content


async def test_public_responses_name_their_content_in_surrogate_keys(cached: CachedApp) -> None:
    ids = await make_content()
    response = await cached.client.get("/graphql", params={"query": TAG_POSTS})
    keys = set(response.headers["surrogate-key"].split())
    assert {f"tag-{ids['tag']}", f"tag-{ids['tag']}-posts", f"post-{ids['post']}"} <= keys
    control = response.headers["cache-control"]
    assert control.startswith("public, max-age=0, s-maxage=")
    assert "stale-while-revalidate=" in control
    assert "Authorization" in response.headers["vary"]


async def test_signed_in_responses_are_private(cached: CachedApp, sign_in: SignIn) -> None:
    await make_content()
    editor = await sign_in(Role.EDITOR)
    response = await cached.client.get(
        "/graphql", params={"query": TAG_POSTS}, headers=editor.headers
    )
    assert response.headers["cache-control"] == "private, no-store"
    assert "surrogate-key" not in response.headers
    assert "etag" not in response.headers


async def test_a_hash_alone_is_unknown_until_the_document_is_sent_with_it(
    cached: CachedApp,
) -> None:
    await make_content()
    unknown = await cached.client.post("/graphql", json={"extensions": apq()})
    assert unknown.status_code == 200
    assert unknown.json() == {
        "errors": [
            {
                "message": "PersistedQueryNotFound",
                "extensions": {"code": "PERSISTED_QUERY_NOT_FOUND"},
            }
        ]
    }
    assert unknown.headers["cache-control"] == "private, no-store"

    registered = await cached.client.post(
        "/graphql", json={"query": TAG_POSTS, "extensions": apq()}
    )
    assert registered.json()["data"]["tag"]["name"] == "News"

    # Apollo's link then sends the hash alone over GET, with `extensions` as a URL parameter.
    by_hash = await cached.client.get(
        "/graphql",
        params={"operationName": "TagPosts", "extensions": orjson.dumps(apq()).decode()},
        headers={"Accept": "*/*"},
    )
    assert by_hash.status_code == 200
    assert by_hash.json() == registered.json()
    assert by_hash.headers["etag"]


async def test_a_document_that_does_not_match_its_hash_is_refused(cached: CachedApp) -> None:
    wrong = await cached.client.post(
        "/graphql", json={"query": TAG_POSTS, "extensions": apq("0" * 64)}
    )
    assert wrong.status_code == 400
    assert wrong.json()["errors"][0]["message"] == "provided sha does not match query"
    # Nothing was remembered under the wrong hash.
    again = await cached.client.post("/graphql", json={"extensions": apq("0" * 64)})
    assert again.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"


async def test_an_unknown_persisted_query_version_is_refused(cached: CachedApp) -> None:
    response = await cached.client.post(
        "/graphql",
        json={"extensions": {"persistedQuery": {"version": 2, "sha256Hash": SHA}}},
    )
    assert response.status_code == 400


async def test_debug_timing_reports_sql_and_time(start_app: StartApp) -> None:
    app = await start_app(debug_timing=True)
    await make_content()
    miss = await app.client.get("/graphql", params={"query": TAG_POSTS})
    timing = miss.headers["server-timing"]
    assert "db;dur=" in timing
    assert "total;dur=" in timing
    cost = miss.json()["extensions"]["cost"]
    assert cost["sqlStatements"] >= 2
    assert f'sql;desc="{cost["sqlStatements"]} statements"' in timing
    assert cost["totalMs"] >= cost["dbMs"] > 0

    hit = await app.client.get("/graphql", params={"query": TAG_POSTS})
    assert hit.json()["extensions"]["cost"]["sqlStatements"] == 0
    assert hit.json()["data"] == miss.json()["data"]
    # The figures differ between the two, the data does not: a weak validator.
    assert hit.headers["etag"] == miss.headers["etag"]
    assert hit.headers["etag"].startswith("W/")


async def test_without_debug_timing_there_are_no_timing_figures(cached: CachedApp) -> None:
    await make_content()
    response = await cached.client.get("/graphql", params={"query": TAG_POSTS})
    assert "server-timing" not in response.headers
    assert "dbMs" not in str(response.json().get("extensions", {}))
