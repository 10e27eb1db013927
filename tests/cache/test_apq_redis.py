"""Persisted queries in a shared Redis: bounded in bytes and in time, and only documents that ran.
Needs CMS_TEST_REDIS_URL (a db number of its own: the tests flush it)."""

from __future__ import annotations

from redis.asyncio import Redis

from cms.cache.apq import ENTRY_OVERHEAD
from tests.cache.conftest import StartApp, needs_redis
from tests.cache.test_apq import BOGUS_TOKEN, is_known, padded_typename, registration, sha256
from tests.security.conftest import codes

pytestmark = needs_redis
PREFIX = "cms:apq:"


async def stored_texts(redis: Redis) -> dict[str, int]:
    """The documents in Redis: their hash and length."""
    sizes = {}
    async for key in redis.scan_iter(match=PREFIX + "*"):
        sha = key.decode().removeprefix(PREFIX)
        if len(sha) == 64:
            sizes[sha] = await redis.strlen(key)
    return sizes


# Guards CMS_APQ_REDIS_MAX_BYTES: the shared store is bounded in bytes, oldest out first.
async def test_redis_keeps_at_most_its_byte_cap(
    start_app: StartApp, redis: Redis, redis_url: str
) -> None:
    cap = 8 * 1024
    url = redis_url
    writer = await start_app(redis_url=url, apq_redis_max_bytes=cap)
    queries = [padded_typename(500) for _ in range(60)]
    for query in queries:
        assert (await writer.client.post("/graphql", json=registration(query))).status_code == 200
        assert sum((await stored_texts(redis)).values()) <= cap
    stored = await stored_texts(redis)
    assert sha256(queries[-1]) in stored
    assert sha256(queries[0]) not in stored
    # Bounded, not emptied: as many as fit, each counted with its bookkeeping.
    assert len(stored) == cap // (500 + ENTRY_OVERHEAD)

    # Another worker, with nothing in its own memory, learns only what Redis kept.
    reader = await start_app(redis_url=url, apq_redis_max_bytes=cap)
    assert await is_known(reader.client, queries[-1])
    assert not await is_known(reader.client, queries[0])


async def test_redis_entries_expire_after_the_set_time(
    start_app: StartApp, redis: Redis, redis_url: str
) -> None:
    app = await start_app(redis_url=redis_url, apq_ttl_seconds=600)
    query = "query Hello { __typename }"
    await app.client.post("/graphql", json=registration(query))
    assert 0 < await redis.ttl(PREFIX + sha256(query)) <= 600


async def test_redis_keeps_nothing_of_the_attack(
    start_app: StartApp, redis: Redis, redis_url: str
) -> None:
    app = await start_app(redis_url=redis_url)
    big = padded_typename(1024 * 1024)
    refused = await app.client.post("/graphql", json=registration(big), headers=BOGUS_TOKEN)
    assert codes(refused.json()) == ["PAYLOAD_TOO_LARGE"]
    small = "{ __typename }"
    unauthenticated = await app.client.post(
        "/graphql", json=registration(small), headers=BOGUS_TOKEN
    )
    assert codes(unauthenticated.json()) == ["UNAUTHENTICATED"]
    assert await stored_texts(redis) == {}
