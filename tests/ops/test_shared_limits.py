"""`cms serve --workers 2` on PostgreSQL + Redis: the documented limits hold once for all workers.

Each worker used to keep its own counters, so N workers allowed N times the documented rates.
With ``CMS_REDIS_URL`` set they share them: the test sends every request on a new connection
(either worker may accept it), learns from the server's log which worker answered, and checks
that the allowance ran out once, across both.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest

from tests.conftest import POSTGRES_URL
from tests.ops.servers import Server, cms, postgres_schema, serving, wait_for

REDIS_URL = os.environ.get("CMS_TEST_REDIS_URL")

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.server,
    pytest.mark.skipif(not POSTGRES_URL, reason="needs PostgreSQL: set CMS_TEST_POSTGRES_URL"),
    pytest.mark.skipif(not REDIS_URL, reason="needs Redis: set CMS_TEST_REDIS_URL"),
]

PASSWORD = "correct horse battery staple"
LOGIN = """
mutation Login($email: String!, $password: String!) {
  login(input: {email: $email, password: $password}) { token errors { code } }
}
"""
ALLOWANCE = 20
MAX_PROBES = 25


@asynccontextmanager
async def two_workers(tmp_path: Path, **settings: str) -> AsyncIterator[Server]:
    """Two workers on a fresh schema, sharing Redis under counters of their own."""
    assert POSTGRES_URL
    assert REDIS_URL
    async with postgres_schema(POSTGRES_URL, f"cms_limits_{os.getpid()}") as url:
        env = {
            **os.environ,
            "CMS_DATABASE_URL": url,
            "CMS_REDIS_URL": REDIS_URL,
            # A fresh prefix: counters of an earlier run must not count against this one.
            "CMS_LIMITS_KEY_PREFIX": f"cms:test-limits:{uuid.uuid4().hex}",
            # Requests name their client in X-Forwarded-For, trusted from the test itself.
            "CMS_TRUSTED_PROXIES": "127.0.0.1",
            **settings,
        }
        assert cms("migrate", env=env).returncode == 0
        created = cms(
            *("user", "create", "--email", "ed@example.org", "--name", "Ed", "--role", "EDITOR"),
            env=env,
            stdin=PASSWORD + "\n",
        )
        assert created.returncode == 0, created.stderr
        with serving(tmp_path, env, workers=2) as server:
            wait_for(
                lambda: len(server.worker_pids()) == 2, timeout=30, what="two workers to start"
            )
            yield server


def served_by(server: Server, request_ids: list[str]) -> dict[str, int]:
    """The pid of the worker that answered each of ``request_ids``, once all are logged."""
    return wait_for(
        lambda: served if all(i in (served := server.served_by()) for i in request_ids) else None,
        timeout=10,
        what="the request log lines",
    )


@asynccontextmanager
async def one_connection_per_worker(server: Server) -> AsyncIterator[list[httpx.AsyncClient]]:
    """Two clients, each holding one kept-alive connection, to different workers.

    Which worker accepts a connection is the kernel's choice: connections are opened a few at a
    time, each learns its worker from a logged request, until both workers hold one.
    """
    held: dict[int, httpx.AsyncClient] = {}
    opened: list[httpx.AsyncClient] = []
    one = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    try:
        for attempt in range(MAX_PROBES):
            batch = [httpx.AsyncClient(base_url=server.url, limits=one) for _ in range(4)]
            opened += batch
            ids = [f"probe-{attempt}-{n}" for n in range(len(batch))]
            await asyncio.gather(
                *(
                    c.get("/probe", headers={"X-Request-ID": i})
                    for c, i in zip(batch, ids, strict=True)
                )
            )
            pids = served_by(server, ids)
            for client, request_id in zip(batch, ids, strict=True):
                held.setdefault(pids[request_id], client)
            if len(held) == 2:
                yield list(held.values())
                return
        raise AssertionError(f"{MAX_PROBES} rounds of connections all reached one worker")
    finally:
        for client in opened:
            await client.aclose()


async def test_the_request_allowance_holds_once_across_workers(tmp_path: Path) -> None:
    async with (
        two_workers(tmp_path, CMS_RATE_LIMIT_REQUESTS=str(ALLOWANCE)) as server,
        one_connection_per_worker(server) as clients,
    ):
        # Alternately through each worker: each alone would allow ALLOWANCE.
        statuses = [
            (
                await clients[n % 2].post(
                    "/graphql",
                    json={"query": "{ __typename }"},
                    headers={"X-Forwarded-For": "192.0.2.10"},
                )
            ).status_code
            for n in range(ALLOWANCE + 10)
        ]
    assert Counter(statuses) == {200: ALLOWANCE, 429: 10}
    assert set(statuses[ALLOWANCE:]) == {429}


async def login(client: httpx.AsyncClient, address: str, password: str) -> str:
    """The login's error code, or "" when it signed in."""
    response = await client.post(
        "/graphql",
        json={"query": LOGIN, "variables": {"email": "ed@example.org", "password": password}},
        headers={"X-Forwarded-For": address},
    )
    result = response.json()["data"]["login"]
    return str(result["errors"][0]["code"]) if result["errors"] else ""


# The hostile-client report (#12, item 7), across workers: a stranger's address runs out of
# attempts on the account once, whichever worker answers, and the owner at another address
# still signs in.
async def test_the_login_throttle_holds_once_across_workers(tmp_path: Path) -> None:
    async with two_workers(tmp_path) as server, one_connection_per_worker(server) as clients:
        codes = [await login(clients[n % 2], "192.0.2.66", "wrong password") for n in range(16)]
        owner = await login(clients[1], "198.51.100.7", PASSWORD)
    assert codes == ["UNAUTHENTICATED"] * 10 + ["THROTTLED"] * 6
    assert owner == ""
