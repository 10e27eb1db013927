"""Shared fixtures: one migrated database per test session, emptied before every test.

The suite runs on SQLite by default and on PostgreSQL when ``CMS_TEST_POSTGRES_URL`` is set;
the app is driven in-process through httpx's ASGI transport.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from tortoise import Tortoise, connections

from cms.app import create_app
from cms.db import apply_migrations
from cms.settings import Settings

SHARED_CONTENT = Path(__file__).resolve().parents[1].parent / "shared" / "content"
POSTGRES_URL = os.environ.get("CMS_TEST_POSTGRES_URL")
# Children before parents, so that deleting never trips a foreign key.
TABLES = ("revision", "preview_token", "api_token", "section", "post_tag", "post", "tag", "author")


def pytest_report_header() -> str:
    target = "PostgreSQL " + POSTGRES_URL if POSTGRES_URL else "SQLite (set CMS_TEST_POSTGRES_URL)"
    return f"cms database under test: {target}"


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    url = POSTGRES_URL or f"sqlite://{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"
    return Settings(database_url=url, env="test")


@pytest.fixture(scope="session")
async def migrated_database(settings: Settings) -> AsyncIterator[None]:
    await apply_migrations(settings)
    try:
        yield
    finally:
        await Tortoise.close_connections()


@pytest.fixture(autouse=True)
async def db(migrated_database: None) -> None:
    """Every test starts from empty tables (the schema and migrations stay)."""
    connection = connections.get("default")
    if POSTGRES_URL:
        await connection.execute_script(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE")
    else:
        for table in TABLES:
            await connection.execute_script(f'DELETE FROM "{table}"')  # noqa: S608


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, manage_database=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


GraphQLRunner = Callable[..., Awaitable[dict[str, Any]]]


@pytest.fixture
def graphql(client: httpx.AsyncClient) -> GraphQLRunner:
    """POST a document to /graphql and return the decoded JSON body."""

    async def run(query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        response = await client.post("/graphql", json={"query": query, "variables": variables})
        body: dict[str, Any] = response.json()
        return body

    return run
