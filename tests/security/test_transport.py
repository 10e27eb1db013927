"""What reaches GraphQL: media type, body size and shape, batching, and mutations over GET."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from cms.models import Role, Tag
from cms.observability.sql import measure_sql
from tests.conftest import SignIn
from tests.security.conftest import OpenClient, codes

JSON = {"Content-Type": "application/json"}
TYPENAME = '{"query": "{ __typename }"}'


def padded(size: int) -> bytes:
    """A valid request of exactly ``size`` bytes."""
    head, tail = b'{"query": "{ __typename }", "variables": {"pad": "', b'"}}'
    return head + b"x" * (size - len(head) - len(tail)) + tail


# Guards TransportGuard's media type check (415): these are what a cross-site form can POST.
@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        pytest.param("query=%7B__typename%7D", "application/x-www-form-urlencoded", id="form"),
        pytest.param(
            '--b\r\nContent-Disposition: form-data; name="query"\r\n\r\n{ __typename }\r\n--b--',
            "multipart/form-data; boundary=b",
            id="multipart",
        ),
        pytest.param(TYPENAME, "text/plain", id="text-plain"),
        pytest.param("{ __typename }", "application/graphql", id="graphql-document"),
        pytest.param(TYPENAME, "", id="none"),
    ],
)
async def test_posts_other_than_json_are_refused_with_415(
    client: httpx.AsyncClient, content: str, content_type: str
) -> None:
    response = await client.post(
        "/graphql", content=content, headers={"Content-Type": content_type}
    )
    assert response.status_code == 415
    assert codes(response.json()) == ["UNSUPPORTED_MEDIA_TYPE"]


# Media types are case-insensitive (RFC 9110), and may carry parameters.
@pytest.mark.parametrize(
    "content_type",
    [
        "application/json; charset=utf-8",
        "APPLICATION/JSON",
        "Application/Json; Charset=UTF-8",
        "application/json ; charset=utf-8",
    ],
)
async def test_json_in_any_case_with_parameters_is_accepted(
    client: httpx.AsyncClient, content_type: str
) -> None:
    response = await client.post(
        "/graphql", content=TYPENAME, headers={"Content-Type": content_type}
    )
    assert response.json() == {"data": {"__typename": "Query"}}


# Guards CMS_MAX_BODY_BYTES (413), on the declared length and on the bytes actually sent.
async def test_a_body_over_16_kb_is_refused_with_413(client: httpx.AsyncClient) -> None:
    accepted = await client.post("/graphql", content=padded(16 * 1024), headers=JSON)
    refused = await client.post("/graphql", content=padded(16 * 1024 + 1), headers=JSON)
    assert accepted.status_code == 200
    assert refused.status_code == 413
    assert codes(refused.json()) == ["PAYLOAD_TOO_LARGE"]


async def test_a_streamed_body_without_a_length_is_cut_off_at_the_cap(
    client: httpx.AsyncClient,
) -> None:
    chunks_sent = 0

    async def endless() -> AsyncIterator[bytes]:
        nonlocal chunks_sent
        yield b'{"query": "{ __typename }", "variables": {"pad": "'
        for _ in range(1000):  # 1 MB if it were all read
            chunks_sent += 1
            yield b"x" * 1024

    response = await client.post("/graphql", content=endless(), headers=JSON)
    assert response.status_code == 413
    assert chunks_sent < 100, "the whole body was read before refusing it"


# Guards CMS_MAX_AUTHENTICATED_BODY_BYTES: writing needs more room than reading, but only a
# bearer token that verifies earns it; any other Authorization header gets the reader's cap.
async def test_a_request_with_a_verified_token_may_send_a_larger_body(
    client: httpx.AsyncClient, sign_in: SignIn
) -> None:
    headers = {**JSON, **(await sign_in(Role.AUTHOR)).headers}
    larger = await client.post("/graphql", content=padded(64 * 1024), headers=headers)
    too_large = await client.post("/graphql", content=padded(1024 * 1024 + 1), headers=headers)
    assert larger.json() == {"data": {"__typename": "Query"}}
    assert too_large.status_code == 413


@pytest.mark.parametrize(
    "authorization",
    ["Bearer cms_not-a-real-token", "Basic dXNlcjpwYXNz", "Bearer", "anything"],
)
async def test_an_authorization_header_that_does_not_verify_gets_the_small_cap(
    client: httpx.AsyncClient, authorization: str
) -> None:
    headers = {**JSON, "Authorization": authorization}
    small = await client.post("/graphql", content=padded(1024), headers=headers)
    larger = await client.post("/graphql", content=padded(16 * 1024 + 1), headers=headers)
    assert codes(small.json()) == ["UNAUTHENTICATED"]
    assert larger.status_code == 413
    assert codes(larger.json()) == ["PAYLOAD_TOO_LARGE"]
    message = larger.json()["errors"][0]["message"]
    assert "over 16384 bytes" in message
    assert "did not verify" in message


async def test_a_streamed_body_is_held_to_the_cap_its_token_earns(
    client: httpx.AsyncClient, sign_in: SignIn
) -> None:
    def streamed(size: int) -> AsyncIterator[bytes]:
        async def chunks() -> AsyncIterator[bytes]:
            body = padded(size)
            for start in range(0, len(body), 4096):
                yield body[start : start + 4096]

        return chunks()

    verified = {**JSON, **(await sign_in(Role.AUTHOR)).headers}
    bogus = {**JSON, "Authorization": "Bearer cms_not-a-real-token"}
    accepted = await client.post("/graphql", content=streamed(64 * 1024), headers=verified)
    refused = await client.post("/graphql", content=streamed(64 * 1024), headers=bogus)
    assert accepted.json() == {"data": {"__typename": "Query"}}
    assert refused.status_code == 413


# Guards the batching refusal: strawberry would answer a plain-text 400 without a code.
async def test_a_batch_of_operations_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/graphql", json=[{"query": "{ __typename }"}, {"query": "{ __typename }"}]
    )
    assert response.status_code == 400
    assert codes(response.json()) == ["BATCHING_NOT_SUPPORTED"]


# Guards the body's shape: each of these reached strawberry as a 500 or an unhelpful 400.
@pytest.mark.parametrize(
    "content",
    [
        pytest.param("{not json", id="malformed"),
        pytest.param('"a string"', id="not-an-object"),
        pytest.param("42", id="a-number"),
        pytest.param(
            '{"query": "{ __typename }", "variables": {"a": ' + "[" * 100 + "]" * 100 + "}}",
            id="nested-100-deep",
        ),
        pytest.param(
            '{"query": "{ __typename }", "variables": {"a": ' + "[" * 3000 + "]" * 3000 + "}}",
            id="nested-3000-deep",
        ),
        pytest.param('{"query": "\\ud800"}', id="lone-surrogate"),
    ],
)
async def test_a_body_that_is_not_one_reasonable_json_object_is_a_bad_request(
    client: httpx.AsyncClient, content: str
) -> None:
    response = await client.post("/graphql", content=content, headers=JSON)
    assert response.status_code == 400
    assert codes(response.json()) == ["BAD_REQUEST"]


async def test_deeply_nested_variables_in_a_get_are_a_bad_request(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get(
        "/graphql",
        params={"query": "{ __typename }", "variables": '{"a": ' + "[" * 900 + "]" * 900 + "}"},
    )
    assert response.status_code == 400
    assert codes(response.json()) == ["BAD_REQUEST"]


async def test_queries_over_get_are_served(client: httpx.AsyncClient) -> None:
    response = await client.get("/graphql", params={"query": "{ __typename }"})
    assert response.json() == {"data": {"__typename": "Query"}}


# Guards CSRF over GET: a link or an <img> must never change anything.
async def test_a_mutation_over_get_is_refused_and_changes_nothing(
    client: httpx.AsyncClient,
) -> None:
    mutation = 'mutation { createTag(input: {name: "Spam"}) { tag { slug } } }'
    response = await client.get("/graphql", params={"query": mutation})
    assert 400 <= response.status_code < 500
    assert "mutations are not allowed" in response.text
    assert await Tag.all().count() == 0


async def test_an_unknown_method_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.put("/graphql", content=TYPENAME, headers=JSON)
    assert response.status_code == 405


async def test_the_body_limit_follows_its_setting(app_client: OpenClient) -> None:
    async with app_client(max_body_bytes=2048) as client:
        response = await client.post("/graphql", content=padded(2049), headers=JSON)
    assert response.status_code == 413


# Guards the order of the checks: the guard verifies the token of a large body, and the
# GraphQL context reuses its verdict rather than looking the token up again.
async def test_a_large_body_verifies_its_token_once(
    client: httpx.AsyncClient, sign_in: SignIn
) -> None:
    headers = {**JSON, **(await sign_in(Role.AUTHOR)).headers}
    await client.post("/graphql", content=padded(1024), headers=headers)  # notes its first use
    with measure_sql() as small:
        await client.post("/graphql", content=padded(1024), headers=headers)
    with measure_sql() as large:
        await client.post("/graphql", content=padded(64 * 1024), headers=headers)
    assert large.statements == small.statements
