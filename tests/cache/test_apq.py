"""Persisted queries keep only documents that ran, and only so many bytes of them.

The hostile client of issue #12 registered 1 MB documents (``{__typename}#aaaa...`` with the
matching hash and any ``Authorization`` header): each was kept before it was parsed, validated
or authenticated, and the in-process store counted entries, not bytes.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

import httpx
import pytest

from cms.models import Role
from tests.cache.conftest import CachedApp, StartApp
from tests.conftest import SignIn
from tests.security.conftest import codes

BOGUS_TOKEN = {"Authorization": "Bearer cms_not-a-real-token"}
MEGABYTE = 1024 * 1024


def sha256(query: str) -> str:
    return hashlib.sha256(query.encode()).hexdigest()


def registration(query: str) -> dict[str, Any]:
    return {
        "query": query,
        "extensions": {"persistedQuery": {"version": 1, "sha256Hash": sha256(query)}},
    }


def padded_typename(size: int) -> str:
    """A valid document of ``size`` bytes, unlike any other: ``{__typename}#<random>aaaa...``."""
    head = "{__typename}#" + secrets.token_hex(8)
    return head + "a" * (size - len(head))


async def is_known(client: httpx.AsyncClient, query: str) -> bool:
    """Whether the hash alone now runs ``query`` (rather than asking for the document)."""
    response = await client.post(
        "/graphql",
        json={"extensions": {"persistedQuery": {"version": 1, "sha256Hash": sha256(query)}}},
    )
    return codes(response.json()) != ["PERSISTED_QUERY_NOT_FOUND"]


# Guards the attack: a bogus token no longer raises the body limit, so the megabyte
# never reaches the store.
async def test_a_megabyte_registration_with_a_bogus_token_is_refused_and_not_kept(
    cached: CachedApp,
) -> None:
    query = padded_typename(MEGABYTE)
    response = await cached.client.post("/graphql", json=registration(query), headers=BOGUS_TOKEN)
    assert response.status_code == 413
    assert codes(response.json()) == ["PAYLOAD_TOO_LARGE"]
    assert not await is_known(cached.client, query)
    assert cached.view.persisted_queries.stored_bytes == 0


# Guards the order: a document is remembered only after it ran.
@pytest.mark.parametrize(
    ("query", "headers", "code"),
    [
        pytest.param("{ __typename", {}, None, id="does-not-parse"),
        pytest.param("{ noSuchField }", {}, "GRAPHQL_VALIDATION_FAILED", id="does-not-validate"),
        pytest.param(
            "{ " + " ".join(f"a{i}: __typename" for i in range(16)) + " }",
            {},
            "TOO_MANY_ALIASES",
            id="over-the-alias-limit",
        ),
        pytest.param(
            "{ " + "__typename " * 1001 + "}", {}, "QUERY_TOO_LARGE", id="over-the-token-limit"
        ),
        pytest.param("{ __typename }", BOGUS_TOKEN, "UNAUTHENTICATED", id="bogus-token"),
        pytest.param(
            "query A { __typename } query B { __typename }",
            {},
            "BAD_USER_INPUT",
            id="several-operations-unnamed",
        ),
        pytest.param(
            "subscription { postPublished { id } }",
            {},
            "SUBSCRIPTION_OVER_HTTP",
            id="subscription",
        ),
    ],
)
async def test_a_document_that_does_not_run_is_not_remembered(
    cached: CachedApp, query: str, headers: dict[str, str], code: str | None
) -> None:
    response = await cached.client.post("/graphql", json=registration(query), headers=headers)
    body = response.json()
    assert body["errors"]
    if code is not None:
        assert code in codes(body)
    assert "data" not in body or body["data"] is None
    assert not await is_known(cached.client, query)
    assert cached.view.persisted_queries.stored_bytes == 0


async def test_a_document_that_ran_is_remembered(cached: CachedApp) -> None:
    query = "query Hello { __typename }"
    response = await cached.client.post("/graphql", json=registration(query))
    assert response.json() == {"data": {"__typename": "Query"}}
    assert await is_known(cached.client, query)


# Guards CMS_APQ_MAX_QUERY_BYTES: a signed-in author may send a megabyte, and it runs, but a
# document that large is not kept.
async def test_a_document_over_the_size_cap_runs_but_is_not_remembered(
    start_app: StartApp, sign_in: SignIn
) -> None:
    app = await start_app()
    session = await sign_in(Role.AUTHOR)
    for size, kept in ((16 * 1024, True), (16 * 1024 + 1, False), (MEGABYTE - 1024, False)):
        query = padded_typename(size)
        response = await app.client.post(
            "/graphql", json=registration(query), headers=session.headers
        )
        assert response.json() == {"data": {"__typename": "Query"}}
        assert await is_known(app.client, query) is kept, size


# Guards CMS_APQ_MAX_BYTES: the in-process store is bounded in bytes, least recently used out.
async def test_the_in_process_store_stays_under_its_byte_cap(start_app: StartApp) -> None:
    cap = 8 * 1024
    app = await start_app(apq_max_bytes=cap)
    store = app.view.persisted_queries
    first, *others = [padded_typename(500) for _ in range(60)]
    await app.client.post("/graphql", json=registration(first))
    for query in others:
        assert (await app.client.post("/graphql", json=registration(query))).status_code == 200
        assert await is_known(app.client, first)  # used, so kept
        assert store.stored_bytes <= cap
    assert store.stored_bytes > cap // 2  # bounded, not emptied
    assert await is_known(app.client, others[-1])
    assert not await is_known(app.client, others[0])
