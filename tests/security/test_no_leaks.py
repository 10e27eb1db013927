"""No response ever carries a traceback, SQL, a file path or a connection string.

Failures are forced (the database refusing every statement with a message full of secrets, a
table gone missing, an exception in a middleware, malformed requests of every kind) and every
response's body and headers are scanned (``tests.security.conftest.LEAKS``).
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from tortoise import connections

from cms.web.transport import TransportGuard
from tests.conftest import SignIn
from tests.factories import make_post, make_tag
from tests.security.conftest import OpenClient, assert_no_leak, codes

SECRET_FAILURE = (
    'SELECT "id", "password_hash" FROM "author" WHERE "email" = $1 -- '
    "at /work/main/cms/services/accounts.py line 42, "
    "connecting to postgres://cms:hunter2@db.internal:5432/cms"
)

READS = [
    "{ posts(first: 5) { totalCount edges { node { title tags { name } author { name } } } } }",
    '{ post(slug: "hello") { title sections { html } } }',
    "{ tags { edges { node { name postCount } } } }",
    '{ node(id: "UG9zdDox") { id } }',
    '{ tag(slug: "python") { posts { edges { node { title } } } } }',
]
WRITES = [
    'mutation { login(input: {email: "a@example.com", password: "guess"}) { token } }',
    'mutation { createTag(input: {name: "New"}) { tag { slug } errors { message } } }',
]


def fail_every_statement(monkeypatch: pytest.MonkeyPatch) -> None:
    """From now on, every statement on every connection fails with ``SECRET_FAILURE``."""

    async def refuse(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError(SECRET_FAILURE)

    client_class = type(connections.get("default"))
    for method in ("execute_query", "execute_query_dict", "execute_insert", "execute_many"):
        monkeypatch.setattr(client_class, method, refuse)


# Guards the masking in cms.graphql.errors: unexpected errors become "Internal server error".
async def test_a_failing_database_leaks_nothing(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    fail_every_statement(monkeypatch)
    for query in READS:
        response = await client.post("/graphql", json={"query": query})
        assert_no_leak(response)
        assert "INTERNAL_SERVER_ERROR" in codes(response.json())


async def test_a_failing_database_during_writes_leaks_nothing(
    app_client: OpenClient, sign_in: SignIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    session = await sign_in()  # while the database still works
    fail_every_statement(monkeypatch)
    # Looking up the bearer token fails before GraphQL runs: that is Starlette's 500 to mask.
    async with app_client(raise_app_exceptions=False) as client:
        for mutation in WRITES:
            for headers in (session.headers, {}):
                response = await client.post("/graphql", json={"query": mutation}, headers=headers)
                assert_no_leak(response)


async def test_errors_name_an_error_id_that_the_log_records(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    fail_every_statement(monkeypatch)
    response = await client.post("/graphql", json={"query": READS[0]})
    [error] = response.json()["errors"]
    assert error["message"] == "Internal server error"
    assert error["extensions"]["errorId"] in caplog.text
    assert "hunter2" in caplog.text, "the log, unlike the response, keeps the details"


# A real database error, from the driver itself: the table a query needs is gone.
async def test_a_missing_table_leaks_nothing(client: httpx.AsyncClient) -> None:
    await make_post(title="Hello", slug="hello", tags=(await make_tag("Python"),))
    connection = connections.get("default")
    await connection.execute_script('ALTER TABLE "tag" RENAME TO "tag_gone"')
    try:
        for query in READS:
            assert_no_leak(await client.post("/graphql", json={"query": query}))
    finally:
        await connection.execute_script('ALTER TABLE "tag_gone" RENAME TO "tag"')


# Guards cms.web.security.internal_error: Starlette's own 500 is plain text with no code, and
# in debug mode a traceback page.
async def test_an_exception_in_a_middleware_is_a_bare_json_500(
    app_client: OpenClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def explode(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError(SECRET_FAILURE)

    monkeypatch.setattr(TransportGuard, "_checked_body", explode)
    async with app_client(raise_app_exceptions=False) as client:
        response = await client.post("/graphql", json={"query": "{ __typename }"})
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/json"
    [error] = response.json()["errors"]
    assert error["message"] == "Internal server error"
    assert error["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    assert len(error["extensions"]["errorId"]) == 32
    assert_no_leak(response)


async def test_an_exception_while_building_the_context_leaks_nothing(
    app_client: OpenClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def explode(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError(SECRET_FAILURE)

    monkeypatch.setattr("cms.graphql.view.build_context", explode)
    async with app_client(raise_app_exceptions=False) as client:
        response = await client.post("/graphql", json={"query": "{ __typename }"})
    assert response.status_code == 500
    assert_no_leak(response)


MALFORMED: list[Any] = [
    pytest.param({"content": "{not json"}, id="invalid-json"),
    pytest.param({"content": "x", "headers": {"Content-Type": "text/plain"}}, id="text-plain"),
    pytest.param({"data": {"query": "{ __typename }"}}, id="form"),
    pytest.param(
        {"json": {"query": "{ __typename }", "variables": {"a": "x" * 40_000}}}, id="huge"
    ),
    pytest.param({"json": [{"query": "{ __typename }"}] * 3}, id="batch"),
    pytest.param({"json": {"query": 42}}, id="query-not-a-string"),
    pytest.param({"json": {"query": "{ __typename }", "variables": [1]}}, id="variables-list"),
    pytest.param({"json": {"query": "{ __typename }", "operationName": 7}}, id="odd-name"),
    pytest.param({"json": {}}, id="no-query"),
    pytest.param({"json": {"query": "query A { a } query B { b }"}}, id="which-operation"),
    pytest.param(
        {"json": {"query": "query($x: Int!) { posts(first: $x) { totalCount } }"}},
        id="missing-variable",
    ),
    pytest.param(
        {"json": {"query": '{ posts(after: "' + "%" * 300 + '") { totalCount } }'}},
        id="odd-cursor",
    ),
    pytest.param({"json": {"query": '{ node(id: "' + "\\u0000" * 10 + '") { id } }'}}, id="nul-id"),
]


@pytest.mark.parametrize("request_kwargs", MALFORMED)
async def test_malformed_requests_get_a_4xx_and_leak_nothing(
    client: httpx.AsyncClient, request_kwargs: dict[str, Any]
) -> None:
    headers = {"Content-Type": "application/json", **request_kwargs.pop("headers", {})}
    if "content" not in request_kwargs:
        headers.pop("Content-Type")
    response = await client.post("/graphql", headers=headers, **request_kwargs)
    assert response.status_code < 500
    assert_no_leak(response)
