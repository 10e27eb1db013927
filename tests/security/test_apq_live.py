"""Issue #12's persisted-query attack against a real ``cms serve``, over TCP.

A megabyte of ``{__typename}#aaaa...`` with its matching hash and a bogus ``Authorization``
header used to be accepted and kept (for a day, in every worker). Now the bogus header earns no
larger body, and nothing that did not run is kept.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from cms.models import Role
from cms.settings import Settings
from tests.cache.test_apq import BOGUS_TOKEN, MEGABYTE, padded_typename, registration, sha256
from tests.conftest import SignIn
from tests.liveservers import cms_worker
from tests.security.conftest import codes

pytestmark = pytest.mark.server


async def lookup(client: httpx.AsyncClient, query: str) -> list[str]:
    """The error codes of asking for ``query`` by its hash alone."""
    hash_only = {"persistedQuery": {"version": 1, "sha256Hash": sha256(query)}}
    response = await client.post("/graphql", json={"extensions": hash_only})
    return codes(response.json())


async def chunks() -> AsyncIterator[bytes]:
    """64 KB of a registration, streamed without a Content-Length."""
    yield b'{"query": "{__typename}#'
    for _ in range(64):
        yield b"a" * 1024
    yield b'"}'


async def test_the_megabyte_registration_attack_keeps_nothing(
    settings: Settings, sign_in: SignIn
) -> None:
    session = await sign_in(Role.AUTHOR)
    env = {"CMS_DATABASE_URL": settings.database_url, "CMS_WEBHOOKS_DISPATCH": "false"}
    with cms_worker(env) as base_url:
        async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
            attacks = [padded_typename(MEGABYTE - 1024) for _ in range(3)]
            for query in attacks:
                refused = await client.post(
                    "/graphql", json=registration(query), headers=BOGUS_TOKEN
                )
                assert refused.status_code == 413
                assert codes(refused.json()) == ["PAYLOAD_TOO_LARGE"]
                assert await lookup(client, query) == ["PERSISTED_QUERY_NOT_FOUND"]

            # Streamed, the body is cut off at the anonymous cap all the same.
            streamed = await client.post(
                "/graphql",
                content=chunks(),
                headers={**BOGUS_TOKEN, "Content-Type": "application/json"},
            )
            assert streamed.status_code == 413

            # A verified token may send the megabyte, and it runs, but it is too large to keep.
            allowed = await client.post(
                "/graphql", json=registration(attacks[0]), headers=session.headers
            )
            assert allowed.json() == {"data": {"__typename": "Query"}}
            assert await lookup(client, attacks[0]) == ["PERSISTED_QUERY_NOT_FOUND"]

            # An ordinary document is still remembered once it ran.
            query = "query Hello { __typename }"
            registered = await client.post("/graphql", json=registration(query))
            assert registered.status_code == 200
            assert await lookup(client, query) == []
