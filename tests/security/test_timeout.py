"""The per-operation time limit cancels the work and answers TIMEOUT.

A test-only schema (the real extensions, and one field that waits for an event nobody sets)
replaces the app's, so that the test waits only as long as the limit it sets: no sleeps.
"""

from __future__ import annotations

import asyncio

import pytest
import strawberry
from starlette.applications import Starlette
from starlette.routing import Route
from strawberry.extensions import ValidationCache

from cms.graphql.errors import ErrorCodes
from cms.graphql.guard import OperationGuard, ParserCache
from tests.security.conftest import OpenClient, codes


class Stalls:
    """What the stalled resolver went through, for the test to check."""

    started: asyncio.Event
    cancelled: asyncio.Event


@strawberry.type
class StallQuery:
    @strawberry.field
    async def stall(self) -> int:
        Stalls.started.set()
        try:
            await asyncio.Event().wait()  # never set: only cancellation ends this
        except asyncio.CancelledError:
            Stalls.cancelled.set()
            raise
        return 0  # pragma: no cover

    @strawberry.field
    def quick(self) -> int:
        return 1


STALL_SCHEMA = strawberry.Schema(
    query=StallQuery, extensions=[ErrorCodes, ParserCache, ValidationCache, OperationGuard]
)


@pytest.fixture(autouse=True)
def stalls() -> type[Stalls]:
    Stalls.started, Stalls.cancelled = asyncio.Event(), asyncio.Event()
    return Stalls


def use_stall_schema(app: Starlette) -> None:
    view = next(r.endpoint for r in app.routes if isinstance(r, Route) and r.path == "/graphql")
    view.schema = STALL_SCHEMA


# Guards CMS_OPERATION_TIMEOUT (cms.graphql.guard.OperationGuard.on_execute): without it the
# request would never answer.
async def test_an_operation_past_its_time_limit_is_cancelled_with_timeout(
    app_client: OpenClient,
) -> None:
    apps: list[Starlette] = []
    async with app_client(app=apps, operation_timeout=0.05) as client:
        use_stall_schema(apps[0])
        response = await asyncio.wait_for(
            client.post("/graphql", json={"query": "{ stall }"}), timeout=10
        )
    body = response.json()
    assert response.status_code == 200
    assert codes(body) == ["TIMEOUT"]
    assert (
        body["errors"][0]["message"] == "The operation took longer than 0.05 s and was cancelled."
    )
    assert Stalls.started.is_set()
    assert Stalls.cancelled.is_set(), "the resolver's work was not cancelled"


async def test_a_timeout_is_504_for_clients_of_the_graphql_response_media_type(
    app_client: OpenClient,
) -> None:
    apps: list[Starlette] = []
    async with app_client(app=apps, operation_timeout=0.05) as client:
        use_stall_schema(apps[0])
        response = await asyncio.wait_for(
            client.post(
                "/graphql",
                json={"query": "{ stall }"},
                headers={"Accept": "application/graphql-response+json"},
            ),
            timeout=10,
        )
    assert response.status_code == 504
    assert "data" not in response.json()
    assert codes(response.json()) == ["TIMEOUT"]


async def test_an_operation_within_its_time_limit_is_untouched(app_client: OpenClient) -> None:
    apps: list[Starlette] = []
    async with app_client(app=apps, operation_timeout=5) as client:
        use_stall_schema(apps[0])
        response = await client.post("/graphql", json={"query": "{ quick }"})
    assert response.json() == {"data": {"quick": 1}}
