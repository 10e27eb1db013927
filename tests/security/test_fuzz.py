"""Property-based fuzzing with hypothesis-graphql, from the published SDL, in-process.

Valid documents (every root field, random arguments and selections) and negative ones (one
schema violation each) go to the app through httpx. Every answer must be below 500 and carry
``data`` or ``errors``; queries, and mutations from anonymous clients, must leave every table
exactly as it was. Example counts are bounded so that the file runs in seconds.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import Mode, mutations, nodes, queries
from tortoise import connections

from cms.app import create_app
from cms.settings import Settings
from tests.conftest import TABLES
from tests.factories import make_author, make_post, make_tag

SDL = (Path(__file__).resolve().parents[2] / "schema" / "schema.graphql").read_text()
SCALARS = {
    "DateTime": st.datetimes(
        min_value=datetime(1990, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
    ).map(lambda moment: nodes.String(moment.isoformat()))
}
FUZZ = settings(
    max_examples=120,
    deadline=None,
    database=None,  # no .hypothesis/ folder in the work tree
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@dataclass
class Target:
    client: httpx.AsyncClient
    baseline: str
    """The database's digest before the first example: no example may change it."""


@pytest.fixture
async def target(settings: Settings) -> AsyncIterator[Target]:
    """The app with content to find and rate limits off (the fuzzer is one busy client)."""
    author = await make_author(slug="ada", name="Ada")
    python = await make_tag("Python")
    for n in range(3):
        await make_post(
            title=f"Post {n}",
            slug=f"post-{n}",
            author=author,
            tags=(python,),
            sections=((None, "Intro"), ("Setup", "Body *text*")),
        )
    unlimited = settings.model_copy(
        update={"rate_limit_requests": 0, "rate_limit_cost": 0, "rate_limit_logins": 0}
    )
    app = create_app(unlimited, manage_database=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield Target(client, await snapshot())


async def snapshot() -> str:
    """A digest of every row of every table."""
    digest = hashlib.sha256()
    connection = connections.get("default")
    for table in TABLES:
        rows = await connection.execute_query_dict(f'SELECT * FROM "{table}" ORDER BY 1')  # noqa: S608
        digest.update(table.encode())
        digest.update(orjson.dumps(rows, default=str, option=orjson.OPT_SORT_KEYS))
    return digest.hexdigest()


async def check(target: Target, document: str) -> None:
    response = await target.client.post("/graphql", json={"query": document})
    assert response.status_code < 500, (document, response.text)
    body = response.json()
    assert "data" in body or "errors" in body, (document, body)
    assert await snapshot() == target.baseline, f"the database changed: {document}"


@FUZZ
@given(document=queries(SDL, custom_scalars=SCALARS))
async def test_valid_queries_never_fail_the_server_nor_change_data(
    target: Target, document: str
) -> None:
    await check(target, document)


@FUZZ
@given(document=queries(SDL, custom_scalars=SCALARS, mode=Mode.NEGATIVE))
async def test_invalid_queries_are_refused_cleanly(target: Target, document: str) -> None:
    await check(target, document)


@FUZZ
@given(document=mutations(SDL, custom_scalars=SCALARS))
async def test_anonymous_mutations_change_nothing(target: Target, document: str) -> None:
    await check(target, document)


@FUZZ
@given(document=mutations(SDL, custom_scalars=SCALARS, mode=Mode.NEGATIVE))
async def test_invalid_mutations_are_refused_cleanly(target: Target, document: str) -> None:
    await check(target, document)
