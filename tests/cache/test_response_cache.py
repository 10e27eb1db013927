"""The response cache: hits, exact purges on content changes, single flight, stale-while-
revalidate, and never sharing what depends on who asked."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from cms.models import Post, PostStatus, Role
from cms.services.events import ContentChanged, events
from tests.cache.conftest import CachedApp, StartApp
from tests.conftest import SignIn
from tests.factories import make_author, make_post, make_tag, minutes_ago
from tests.helpers import assert_max_queries

HEADLINE = """
query Headline($slug: String!) {
  tag(slug: $slug) {
    posts(first: 20) {
      edges { node { title slug author { name } tags { name } sections { heading body } } }
    }
  }
}
"""
TAGS = "{ tags { edges { node { name } } } }"


async def make_news() -> dict[str, Any]:
    ada = await make_author(name="Ada", slug="ada")
    news, other = await make_tag("News"), await make_tag("Other")
    first = await make_post(slug="first", title="First", author=ada, tags=(news,))
    unrelated = await make_post(slug="unrelated", title="Unrelated", tags=(other,))
    return {"ada": ada, "news": news, "other": other, "first": first, "unrelated": unrelated}


def titles(response: Any) -> list[str]:
    body = response.json()
    assert "errors" not in body, body
    return [edge["node"]["title"] for edge in body["data"]["tag"]["posts"]["edges"]]


async def test_a_repeated_public_query_is_answered_without_sql(cached: CachedApp) -> None:
    await make_news()
    miss = await cached.post(HEADLINE, {"slug": "news"})
    async with assert_max_queries(0):
        hit = await cached.post(HEADLINE, {"slug": "news"})
    assert (miss.headers["x-cache"], hit.headers["x-cache"]) == ("MISS", "HIT")
    assert hit.content == miss.content
    assert hit.headers["cache-control"].startswith("public, ")


async def test_documents_that_differ_only_in_whitespace_share_an_entry(cached: CachedApp) -> None:
    await make_news()
    await cached.post(HEADLINE, {"slug": "news"})
    spaced = HEADLINE.replace("{", " {\n  ").replace("posts(first: 20)", "posts( first : 20 )")
    again = await cached.post(spaced, {"slug": "news"})
    assert again.headers["x-cache"] == "HIT"


async def test_a_change_to_a_post_purges_the_responses_that_showed_it(cached: CachedApp) -> None:
    rows = await make_news()
    await cached.post(HEADLINE, {"slug": "news"})
    await Post.filter(id=rows["first"].id).update(title="First, revised")
    await events.content_changed(
        ContentChanged("post.updated", post_ids=frozenset({rows["first"].id}))
    )

    fresh = await cached.post(HEADLINE, {"slug": "news"})
    assert fresh.headers["x-cache"] == "MISS"
    assert titles(fresh) == ["First, revised"]


async def test_a_new_post_enters_the_cached_lists_of_its_tags(cached: CachedApp) -> None:
    rows = await make_news()
    assert titles(await cached.post(HEADLINE, {"slug": "news"})) == ["First"]
    newer = await make_post(
        slug="newer", title="Newer", tags=(rows["news"],), published_at=minutes_ago(1)
    )
    # The writer names only the post: the cache looks up the tags it has now.
    await events.content_changed(ContentChanged("post.published", post_ids=frozenset({newer.id})))
    assert titles(await cached.post(HEADLINE, {"slug": "news"})) == ["Newer", "First"]


async def test_a_change_elsewhere_leaves_unrelated_entries_cached(cached: CachedApp) -> None:
    rows = await make_news()
    await cached.post(HEADLINE, {"slug": "news"})
    await events.content_changed(
        ContentChanged("post.updated", post_ids=frozenset({rows["unrelated"].id}))
    )
    assert (await cached.post(HEADLINE, {"slug": "news"})).headers["x-cache"] == "HIT"


async def test_a_renamed_tag_purges_the_tag_lists(cached: CachedApp) -> None:
    rows = await make_news()
    await cached.post(TAGS)
    await rows["news"].update_from_dict({"name": "Breaking"}).save()
    await events.content_changed(
        ContentChanged("tag.changed", tag_ids=frozenset({rows["news"].id}))
    )
    names = [e["node"]["name"] for e in (await cached.post(TAGS)).json()["data"]["tags"]["edges"]]
    assert names == ["Breaking", "Other"]


async def test_a_lookup_that_found_nothing_is_purged_when_the_row_appears(
    cached: CachedApp,
) -> None:
    query = '{ post(slug: "later") { title } }'
    assert (await cached.post(query)).json()["data"]["post"] is None
    later = await make_post(slug="later", title="Later")
    await events.content_changed(ContentChanged("post.published", post_ids=frozenset({later.id})))
    assert (await cached.post(query)).json()["data"]["post"] == {"title": "Later"}


async def test_concurrent_identical_misses_run_the_query_once(cached: CachedApp) -> None:
    await make_news()
    async with assert_max_queries(100) as alone:
        await cached.post(HEADLINE, {"slug": "other"})  # warm every lazy import and pool
    async with assert_max_queries(100) as together:
        responses = await asyncio.gather(
            *(cached.post(HEADLINE, {"slug": "news"}) for _ in range(8))
        )
    outcomes = sorted(response.headers["x-cache"] for response in responses)
    assert outcomes == ["MISS"] + ["SHARED"] * 7
    assert len({response.content for response in responses}) == 1
    assert together.statements == alone.statements


async def test_a_stale_entry_is_served_while_one_refresh_runs(cached: CachedApp) -> None:
    rows = await make_news()
    now = [1_000_000.0]
    cached.cache.clock = lambda: now[0]
    cached.cache.backend.clock = lambda: now[0]  # type: ignore[attr-defined]
    await cached.post(HEADLINE, {"slug": "news"})
    # A change nobody announced: only the TTL can bring it in.
    await Post.filter(id=rows["first"].id).update(title="Silently changed")
    now[0] += cached.cache.ttl + 1

    stale = await cached.post(HEADLINE, {"slug": "news"})
    assert stale.headers["x-cache"] == "STALE"
    assert titles(stale) == ["First"]
    await asyncio.gather(*cached.cache._refreshes)

    refreshed = await cached.post(HEADLINE, {"slug": "news"})
    assert refreshed.headers["x-cache"] == "HIT"
    assert titles(refreshed) == ["Silently changed"]


async def test_an_entry_past_its_stale_window_is_not_served(cached: CachedApp) -> None:
    await make_news()
    now = [1_000_000.0]
    cached.cache.clock = lambda: now[0]
    cached.cache.backend.clock = lambda: now[0]  # type: ignore[attr-defined]
    await cached.post(HEADLINE, {"slug": "news"})
    now[0] += cached.cache.ttl + cached.cache.swr + 1
    assert (await cached.post(HEADLINE, {"slug": "news"})).headers["x-cache"] == "MISS"


async def test_a_write_during_a_miss_keeps_its_result_out_of_the_cache(cached: CachedApp) -> None:
    rows = await make_news()
    purge = ContentChanged("post.updated", post_ids=frozenset({rows["first"].id}))
    original = cached.cache.backend.put

    async def put_after_a_purge(*args: Any, **kwargs: Any) -> bool:
        # The write lands after the response read the database, before it is stored.
        await events.content_changed(purge)
        return await original(*args, **kwargs)

    cached.cache.backend.put = put_after_a_purge  # type: ignore[method-assign]
    await cached.post(HEADLINE, {"slug": "news"})
    cached.cache.backend.put = original  # type: ignore[method-assign]
    assert (await cached.post(HEADLINE, {"slug": "news"})).headers["x-cache"] == "MISS"


async def test_signed_in_readers_are_never_served_from_or_into_the_cache(
    cached: CachedApp, sign_in: SignIn
) -> None:
    rows = await make_news()
    await make_post(
        slug="draft",
        title="Draft",
        tags=(rows["news"],),
        status=PostStatus.DRAFT,
        published_at=None,
    )
    editor = await sign_in(Role.EDITOR)

    for _ in range(2):
        private = await cached.post(HEADLINE, {"slug": "news"}, headers=editor.headers)
        assert "x-cache" not in private.headers
        assert private.headers["cache-control"] == "private, no-store"
        assert "Draft" in titles(private)

    public = await cached.post(HEADLINE, {"slug": "news"})
    assert public.headers["x-cache"] == "MISS"
    assert titles(public) == ["First"]


async def test_preview_requests_bypass_the_cache(cached: CachedApp) -> None:
    await make_news()
    await cached.post(HEADLINE, {"slug": "news"})
    preview = await cached.post(HEADLINE, {"slug": "news"}, headers={"X-Preview-Token": "whatever"})
    assert "x-cache" not in preview.headers
    assert preview.headers["cache-control"] == "private, no-store"


async def test_responses_with_errors_are_never_stored(cached: CachedApp) -> None:
    query = "{ posts(first: 1000) { edges { node { title } } } }"
    for _ in range(2):
        response = await cached.post(query)
        assert response.json()["errors"]
        assert response.headers["x-cache"] == "MISS"
        assert response.headers["cache-control"] == "private, no-store"


async def test_mutations_are_never_cached(cached: CachedApp) -> None:
    mutation = (
        'mutation { login(input: {email: "nobody@example.org", password: "wrong-password"})'
        " { __typename } }"
    )
    for _ in range(2):
        response = await cached.post(mutation)
        assert "x-cache" not in response.headers
        assert response.headers["cache-control"] == "private, no-store"


async def test_the_cache_is_off_with_cms_cache_off(start_app: StartApp) -> None:
    app = await start_app(cache=False)
    await make_news()
    for _ in range(2):
        response = await app.post(HEADLINE, {"slug": "news"})
        assert "x-cache" not in response.headers
    assert app.view.cache is None


@pytest.mark.parametrize("path", ["GET", "POST"])
async def test_an_app_without_its_lifespan_never_serves_from_the_cache(
    client: Any, path: str
) -> None:
    # The suite's plain client never starts the lifespan: no listener, so no cache.
    await make_news()
    for _ in range(2):
        if path == "GET":
            response = await client.get("/graphql", params={"query": TAGS})
        else:
            response = await client.post("/graphql", json={"query": TAGS})
        assert "x-cache" not in response.headers
