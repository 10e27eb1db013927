"""The Redis backend: one cache for several app instances, purged for all of them by a write
through any one, and no errors when Redis is down. Needs CMS_TEST_REDIS_URL (a db number of its
own: the tests flush it)."""

from __future__ import annotations

import socket
import time

import httpx
from redis.exceptions import ConnectionError as RedisConnectionError

from cms.app import create_app
from cms.cache.backend import Entry
from cms.cache.redis import RedisBackend
from cms.models import Post
from cms.services.events import ContentChanged
from cms.settings import Settings
from tests.cache.conftest import CachedApp, StartApp, needs_redis
from tests.factories import make_post, make_tag

pytestmark = needs_redis

TAG_POSTS = '{ tag(slug: "news") { posts(first: 5) { edges { node { title } } } } }'


def titles(response: object) -> list[str]:
    body = response.json()  # type: ignore[attr-defined]
    return [edge["node"]["title"] for edge in body["data"]["tag"]["posts"]["edges"]]


async def test_two_instances_share_one_cache(start_app: StartApp, redis_url: str) -> None:
    first, second = await start_app(redis_url=redis_url), await start_app(redis_url=redis_url)
    await make_post(title="Hello", tags=(await make_tag("News"),))
    assert (await first.post(TAG_POSTS)).headers["x-cache"] == "MISS"
    shared = await second.post(TAG_POSTS)
    assert shared.headers["x-cache"] == "HIT"
    assert titles(shared) == ["Hello"]


async def test_a_write_through_one_instance_is_seen_fresh_by_the_other(
    start_app: StartApp, redis_url: str
) -> None:
    writer, reader = await start_app(redis_url=redis_url), await start_app(redis_url=redis_url)
    post = await make_post(title="Hello", tags=(await make_tag("News"),))
    await reader.post(TAG_POSTS)
    assert (await reader.post(TAG_POSTS)).headers["x-cache"] == "HIT"

    await Post.filter(id=post.id).update(title="Hello again")
    # Only the writer's process hears the event, as with two worker processes.
    await writer.cache.on_content_changed(
        ContentChanged("post.updated", post_ids=frozenset({post.id}))
    )

    fresh = await reader.post(TAG_POSTS)
    assert fresh.headers["x-cache"] == "MISS"
    assert titles(fresh) == ["Hello again"]


async def test_a_redis_that_is_down_means_reads_from_the_database(settings: Settings) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    down = settings.model_copy(update={"cache": True, "redis_url": f"redis://127.0.0.1:{port}/0"})
    app = CachedApp(app=create_app(down, manage_database=False), client=None)  # type: ignore[arg-type]
    await make_post(title="Hello", tags=(await make_tag("News"),))
    # Only the cache's part of the lifespan: subscriptions need Redis at start-up.
    async with (
        app.view.running(),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app.app), base_url="http://testserver"
        ) as client,
    ):
        app.client = client
        for _ in range(2):
            response = await app.post(TAG_POSTS)
            assert response.status_code == 200
            assert titles(response) == ["Hello"]
            assert "x-cache" not in response.headers


def entry(body: bytes) -> Entry:
    now = time.time()
    return Entry(
        body=body,
        etag='"x"',
        surrogate_keys=frozenset({"post-1"}),
        fresh_until=now + 60,
        stale_until=now + 90,
    )


async def test_a_store_after_a_purge_is_refused(redis_url: str) -> None:
    backend = RedisBackend(redis_url)
    before = (await backend.get("k")).epoch
    assert before is not None
    await backend.purge({"post-2"})
    assert await backend.put("k", entry(b"old"), epoch=before) is False
    assert (await backend.get("k")).entry is None
    await backend.close()


async def test_a_purge_lost_while_redis_was_down_empties_the_cache_when_it_is_back(
    redis_url: str,
) -> None:
    backend = RedisBackend(redis_url, retry_after=0)
    epoch = (await backend.get("k")).epoch
    assert epoch is not None
    assert await backend.put("k", entry(b"cached"), epoch=epoch)
    working = backend._purge

    async def unreachable(**_: object) -> None:
        raise RedisConnectionError("down")

    backend._purge = unreachable  # type: ignore[assignment]
    await backend.purge({"post-1"})
    backend._purge = working
    assert (await backend.get("k")).entry is None
    await backend.close()
