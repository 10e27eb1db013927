"""A subscription sent over plain HTTP is refused clearly, never run as a query."""

from __future__ import annotations

import httpx
import pytest

SUBSCRIPTION = "subscription { postPublished { id } }"


@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_a_subscription_over_http_is_refused_with_a_code(
    client: httpx.AsyncClient, method: str
) -> None:
    if method == "GET":
        response = await client.get("/graphql", params={"query": SUBSCRIPTION})
    else:
        response = await client.post("/graphql", json={"query": SUBSCRIPTION})
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "SUBSCRIPTION_OVER_HTTP"
    assert "WebSocket" in error["message"]
