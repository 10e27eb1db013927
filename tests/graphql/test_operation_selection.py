"""Which operation of a document runs: the one ``operationName`` names, or the only one.

The GraphQL spec's GetOperation: a document with several operations and no ``operationName``
is a request error. Running the first one instead let a document holding a subscription and
a query run the subscription over HTTP.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.security.conftest import codes

TWO_QUERIES = "query A { a: __typename } query B { b: __typename }"
SUBSCRIPTION_AND_QUERY = "subscription S { postPublished { id } } query Q { __typename }"


async def send(client: httpx.AsyncClient, method: str, **request: Any) -> httpx.Response:
    if method == "GET":
        return await client.get("/graphql", params=request)
    return await client.post("/graphql", json=request)


@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize("document", [TWO_QUERIES, SUBSCRIPTION_AND_QUERY])
async def test_several_operations_without_a_name_are_bad_user_input(
    client: httpx.AsyncClient, method: str, document: str
) -> None:
    response = await send(client, method, query=document)
    body = response.json()
    assert codes(body) == ["BAD_USER_INPUT"]
    assert "operationName" in body["errors"][0]["message"]
    assert "data" not in body


@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_the_named_operation_runs(client: httpx.AsyncClient, method: str) -> None:
    response = await send(client, method, query=TWO_QUERIES, operationName="B")
    assert response.json() == {"data": {"b": "Query"}}
    query = await send(client, "POST", query=SUBSCRIPTION_AND_QUERY, operationName="Q")
    assert query.json() == {"data": {"__typename": "Query"}}


async def test_the_refusal_is_a_400_for_graphql_response_json(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/graphql",
        json={"query": TWO_QUERIES},
        headers={"Accept": "application/graphql-response+json"},
    )
    assert response.status_code == 400
    assert codes(response.json()) == ["BAD_USER_INPUT"]


# Strawberry answered these in plain text, without a code.
@pytest.mark.parametrize(
    ("document", "name", "message"),
    [
        pytest.param(TWO_QUERIES, "Z", "no operation named `Z`", id="unknown-name"),
        pytest.param(
            TWO_QUERIES, "Z" * 5000, "no operation by that name", id="unknown-long-name-not-echoed"
        ),
        pytest.param("fragment F on Query { __typename }", None, "no operation", id="none"),
    ],
)
async def test_a_name_that_selects_nothing_is_bad_user_input(
    client: httpx.AsyncClient, document: str, name: str | None, message: str
) -> None:
    response = await send(client, "POST", query=document, operationName=name)
    body = response.json()
    assert codes(body) == ["BAD_USER_INPUT"]
    assert message in body["errors"][0]["message"]


@pytest.mark.parametrize("name", [{"obj": "ect"}, 0, False, ["B"]])
async def test_an_operation_name_that_is_not_a_string_is_a_bad_request(
    client: httpx.AsyncClient, name: object
) -> None:
    response = await send(client, "POST", query=TWO_QUERIES, operationName=name)
    assert response.status_code == 400
    assert codes(response.json()) == ["BAD_REQUEST"]
