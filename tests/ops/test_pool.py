"""An exhausted PostgreSQL pool fails requests fast with 503, and the service recovers by itself."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from tortoise import connections

from cms.auth.tokens import new_secret
from cms.db import connection_config
from cms.settings import Settings
from tests.conftest import POSTGRES_URL

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not POSTGRES_URL, reason="needs PostgreSQL: set CMS_TEST_POSTGRES_URL"),
]

ACQUIRE_TIMEOUT = 0.3
POSTS = "{ posts(first: 1) { totalCount } }"


@pytest.fixture
async def tiny_pool(migrated_database: None, settings: Settings) -> AsyncIterator[Any]:
    """This test's requests go through a pool of one connection with a short acquire timeout."""
    from cms.db.asyncpg_pool import PooledAsyncpgClient

    small = settings.model_copy(
        update={"db_pool_min": 1, "db_pool_max": 1, "db_acquire_timeout": ACQUIRE_TIMEOUT}
    )
    config = connection_config(small)
    assert isinstance(config, dict)
    client = PooledAsyncpgClient(connection_name="default", **config["credentials"])
    await client.create_connection(with_db=True)
    # The in-process app runs in this test's context, so it sees this connection as "default".
    token = connections.set("default", client)
    try:
        yield client
    finally:
        connections.reset(token)
        await client.close()


async def timed_post(client: httpx.AsyncClient, **kwargs: Any) -> tuple[httpx.Response, float]:
    started = time.perf_counter()
    response = await client.post("/graphql", **kwargs)
    return response, time.perf_counter() - started


async def test_a_request_waits_at_most_the_acquire_timeout_then_gets_503(
    tiny_pool: Any, client: httpx.AsyncClient
) -> None:
    held = await tiny_pool._pool.acquire()
    try:
        response, elapsed = await timed_post(client, json={"query": POSTS})
    finally:
        await tiny_pool._pool.release(held)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "1"
    assert {e["extensions"]["code"] for e in response.json()["errors"]} == {"SERVICE_UNAVAILABLE"}
    assert ACQUIRE_TIMEOUT <= elapsed < ACQUIRE_TIMEOUT + 2

    recovered = await client.post("/graphql", json={"query": POSTS})
    assert recovered.status_code == 200
    assert recovered.json() == {"data": {"posts": {"totalCount": 0}}}


async def test_a_signed_in_request_also_fails_fast_while_the_pool_is_exhausted(
    tiny_pool: Any, client: httpx.AsyncClient
) -> None:
    # A well-formed token is looked up before GraphQL runs: the middleware answers for it.
    held = await tiny_pool._pool.acquire()
    try:
        response, elapsed = await timed_post(
            client, json={"query": POSTS}, headers={"Authorization": f"Bearer {new_secret()}"}
        )
    finally:
        await tiny_pool._pool.release(held)
    assert response.status_code == 503
    assert response.json()["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE"
    assert elapsed < ACQUIRE_TIMEOUT + 2


async def test_the_pool_settings_reach_asyncpg(tiny_pool: Any) -> None:
    assert tiny_pool.pool_stats() == {"in_use": 0, "idle": 1, "max": 1}
    held = await tiny_pool._pool.acquire()
    try:
        assert tiny_pool.pool_stats() == {"in_use": 1, "idle": 0, "max": 1}
    finally:
        await tiny_pool._pool.release(held)


def test_statement_caching_can_be_turned_off_for_pgbouncer() -> None:
    settings = Settings(database_url="postgres://u:p@db:6432/cms", db_statement_cache_size=0)
    config = connection_config(settings)
    assert isinstance(config, dict)
    assert config["engine"] == "cms.db.asyncpg_pool"
    assert config["credentials"]["statement_cache_size"] == 0
    assert (config["credentials"]["host"], config["credentials"]["port"]) == ("db", 6432)
