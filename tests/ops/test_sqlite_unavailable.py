"""A SQLite file that cannot be opened fails fast: 503 for requests, one line for the CLI.

Before, Tortoise kept its lock after the failed open, so the first request failed and every
later one hung until CMS_OPERATION_TIMEOUT answered TIMEOUT; `cms migrate` hung for good.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tortoise import connections
from tortoise.transactions import in_transaction

from cms.db import connection_config
from cms.errors import ServiceUnavailable
from cms.settings import Settings
from cms.sqlite_engine import FailFastSqliteClient
from tests.conftest import POSTGRES_URL
from tests.ops.servers import cms

POSTS = "{ posts(first: 1) { totalCount } }"


@pytest.fixture
def unopenable(tmp_path: Path) -> str:
    return f"sqlite://{tmp_path / 'missing-directory' / 'cms.sqlite3'}"


@pytest.fixture
async def unopenable_client(
    migrated_database: None, unopenable: str
) -> AsyncIterator[FailFastSqliteClient]:
    """This test's requests go to a SQLite file that cannot be opened."""
    if POSTGRES_URL:
        pytest.skip("the app's SQLite engine: the in-process app runs on the test database")
    config = connection_config(Settings(database_url=unopenable, env="test"))
    assert config["engine"] == "cms.sqlite_engine"
    client = FailFastSqliteClient(connection_name="default", **config["credentials"])
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


async def test_every_request_fails_fast_with_503(
    unopenable_client: FailFastSqliteClient, client: httpx.AsyncClient
) -> None:
    # The first request used to fail, and leave the lock held for every later one.
    for _ in range(3):
        response, elapsed = await timed_post(client, json={"query": POSTS})
        assert response.status_code == 503, response.text
        assert response.headers["Retry-After"] == "1"
        codes = {e["extensions"]["code"] for e in response.json()["errors"]}
        assert codes == {"SERVICE_UNAVAILABLE"}
        assert elapsed < 2


async def test_transactions_fail_fast_too(unopenable_client: FailFastSqliteClient) -> None:
    for _ in range(2):
        async with asyncio.timeout(2):
            with pytest.raises(ServiceUnavailable, match="cannot be opened"):
                async with in_transaction("default"):
                    pass


def test_migrate_says_so_in_one_line(unopenable: str) -> None:
    started = time.monotonic()
    result = cms("migrate", env={**os.environ, "CMS_DATABASE_URL": unopenable})
    assert time.monotonic() - started < 30
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0, result.stderr
    assert "cannot be opened" in result.stderr


def test_serve_refuses_to_start_in_one_line(unopenable: str) -> None:
    result = cms("serve", "--port", "18201", env={**os.environ, "CMS_DATABASE_URL": unopenable})
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0, result.stderr
    assert unopenable in result.stderr
    assert "cannot be opened" in result.stderr
