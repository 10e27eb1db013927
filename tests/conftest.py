"""Shared fixtures: one migrated database per test session, emptied before every test.

The suite runs on SQLite by default and on PostgreSQL when ``CMS_TEST_POSTGRES_URL`` is set;
the app is driven in-process through httpx's ASGI transport.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest
from tortoise import Tortoise, connections

from cms.app import create_app
from cms.auth.tokens import issue_token
from cms.db import apply_migrations
from cms.models import Author, Role, TokenKind
from cms.settings import Settings
from tests.cli import cms
from tests.factories import make_author

POSTGRES_URL = os.environ.get("CMS_TEST_POSTGRES_URL")
# Children before parents, so that deleting never trips a foreign key.
TABLES = (
    "webhook_attempt",
    "webhook_delivery",
    "webhook",
    "revision",
    "revision_body",
    "preview_token",
    "api_token",
    "post_search",
    "section",
    "post_tag",
    "post",
    "tag",
    "author",
    # Last: deleting the rows above moves these counters on SQLite.
    "post_listing_count",
)


def pytest_report_header() -> str:
    target = "PostgreSQL " + POSTGRES_URL if POSTGRES_URL else "SQLite (set CMS_TEST_POSTGRES_URL)"
    return f"cms database under test: {target}"


@pytest.fixture(scope="session")
async def database_url(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    """A database of this test session's own.

    On PostgreSQL a fresh database is created beside the one ``CMS_TEST_POSTGRES_URL`` names
    and dropped afterwards, so that concurrent test runs on one server never share tables.
    """
    if not POSTGRES_URL:
        yield f"sqlite://{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"
        return
    import asyncpg

    server = urlsplit(POSTGRES_URL)
    name = f"{server.path.lstrip('/') or 'test'}_{os.getpid()}"
    admin = await asyncpg.connect(POSTGRES_URL)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{name}"')
        yield urlunsplit(server._replace(path=f"/{name}"))
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@pytest.fixture(scope="session")
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, env="test")


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

    async def run(
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        headers: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        response = await client.post(
            "/graphql", json={"query": query, "variables": variables}, headers=headers
        )
        body: dict[str, Any] = response.json()
        return body

    return run


@dataclass(frozen=True)
class Session:
    """A signed-in author: pass ``headers`` to ``graphql(..., headers=...)``."""

    author: Author
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


SignIn = Callable[..., Awaitable[Session]]


@pytest.fixture
def sign_in() -> SignIn:
    """``await sign_in(Role.EDITOR)``: a new author with that role and a session token.

    Extra keyword arguments become the author's fields (``name=...``, ``author=existing`` to
    sign in an author made elsewhere). No password is involved, so this is fast and never
    throttled.
    """

    async def sign_in_as(
        role: Role = Role.AUTHOR, *, author: Author | None = None, **fields: Any
    ) -> Session:
        author = author or await make_author(role=role, **fields)
        issued = await issue_token(
            author_id=author.id,
            kind=TokenKind.SESSION,
            name="test session",
            expires_at=datetime.now(UTC) + timedelta(days=1),
        )
        return Session(author=author, token=issued.secret)

    return sign_in_as


@pytest.fixture
def cli_db(tmp_path: Path) -> Path:
    """A migrated SQLite file for tests that run the ``cms`` command as a process."""
    path = tmp_path / "cli.sqlite3"
    result = cms("migrate", db=path)
    assert result.returncode == 0, result.stderr
    return path
