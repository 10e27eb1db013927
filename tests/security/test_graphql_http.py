"""GraphQL over HTTP: the ``application/graphql-response+json`` media type and its statuses."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from cms.web.graphql_http import prefers_graphql_response_json
from tests.security.conftest import codes

GRAPHQL_RESPONSE = "application/graphql-response+json"
ACCEPT_SPEC = {"Accept": f"{GRAPHQL_RESPONSE}, application/json;q=0.9"}


@pytest.mark.parametrize(
    ("accept", "prefers"),
    [
        (None, False),
        ("*/*", False),
        ("application/json", False),
        (GRAPHQL_RESPONSE, True),
        (f"{GRAPHQL_RESPONSE}, application/json", True),
        (f"application/json, {GRAPHQL_RESPONSE};q=0.5", False),
        (f"{GRAPHQL_RESPONSE};q=0", False),
    ],
)
def test_the_accept_header_decides_the_media_type(accept: str | None, prefers: bool) -> None:
    assert prefers_graphql_response_json(accept) is prefers


async def post(
    client: httpx.AsyncClient, query: str, variables: dict[str, Any] | None = None
) -> httpx.Response:
    return await client.post(
        "/graphql", json={"query": query, "variables": variables}, headers=ACCEPT_SPEC
    )


async def test_an_executed_operation_is_200_in_the_spec_media_type(
    client: httpx.AsyncClient,
) -> None:
    response = await post(client, "{ __typename }")
    assert response.status_code == 200
    assert response.headers["content-type"] == f"{GRAPHQL_RESPONSE}; charset=utf-8"
    assert response.json() == {"data": {"__typename": "Query"}}


# Each of these fails before execution: 400, and no `data` entry at all.
@pytest.mark.parametrize(
    ("query", "variables", "code"),
    [
        pytest.param("{ posts {", None, "GRAPHQL_PARSE_FAILED", id="parse"),
        pytest.param("{ nope }", None, "GRAPHQL_VALIDATION_FAILED", id="validation"),
        pytest.param(
            "query($n: Int) { posts(first: $n) { totalCount } }",
            {"n": "many"},
            "BAD_USER_INPUT",
            id="variable-coercion",
        ),
        pytest.param(
            "{ " + "__typename " * 1001 + "}", None, "QUERY_TOO_LARGE", id="too-many-tokens"
        ),
        pytest.param(
            "{ tags(first: 100) { edges { node { posts(first: 101) { totalCount "
            "edges { node { title } } } } } } }",
            None,
            "QUERY_TOO_COMPLEX",
            id="too-complex",
        ),
    ],
)
async def test_an_operation_that_never_began_is_400_without_data(
    client: httpx.AsyncClient, query: str, variables: dict[str, Any] | None, code: str
) -> None:
    response = await post(client, query, variables)
    assert response.status_code == 400
    assert response.headers["content-type"].startswith(GRAPHQL_RESPONSE)
    assert "data" not in response.json()
    assert codes(response.json()) == [code]


async def test_a_field_error_during_execution_is_still_200_with_data(
    client: httpx.AsyncClient,
) -> None:
    response = await post(client, "{ posts(first: 101) { totalCount } }")
    assert response.status_code == 200
    assert response.json()["data"] is None
    assert codes(response.json()) == ["BAD_USER_INPUT"]


async def test_a_bad_token_is_401(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/graphql",
        json={"query": "{ __typename }"},
        headers={**ACCEPT_SPEC, "Authorization": "Bearer cms_unknown"},
    )
    assert response.status_code == 401
    assert codes(response.json()) == ["UNAUTHENTICATED"]


async def test_plain_json_clients_keep_200_and_their_media_type(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post("/graphql", json={"query": "{ nope }"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert codes(response.json()) == ["GRAPHQL_VALIDATION_FAILED"]


async def test_transport_refusals_use_the_spec_media_type_too(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(
        "/graphql", json=[{"query": "{ __typename }"}], headers=ACCEPT_SPEC
    )
    assert response.status_code == 400
    assert response.headers["content-type"].startswith(GRAPHQL_RESPONSE)
