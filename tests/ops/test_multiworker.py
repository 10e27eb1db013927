"""`cms serve --workers 2` on PostgreSQL + Redis: a write through one worker is at once
visible through the other.

Which worker answers a connection is up to the kernel, so the test asks many times, each on a
new connection, and learns from the server's log (every request line names its process id)
which worker served each request id.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import POSTGRES_URL
from tests.ops.servers import Server, cms, postgres_schema, serving, wait_for

REDIS_URL = os.environ.get("CMS_TEST_REDIS_URL")

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not POSTGRES_URL, reason="needs PostgreSQL: set CMS_TEST_POSTGRES_URL"),
    pytest.mark.skipif(not REDIS_URL, reason="needs Redis: set CMS_TEST_REDIS_URL"),
]

PASSWORD = "correct horse battery staple"
LOGIN = """
mutation Login($email: String!, $password: String!) {
  login(input: {email: $email, password: $password}) { token errors { code message } }
}
"""
CREATE = """
mutation Create($title: String!) {
  createPost(input: {title: $title, status: PUBLISHED, sections: [{body: "Hello."}]}) {
    post { slug }
    errors { code message }
  }
}
"""
READ = "query Read($slug: String!) { post(slug: $slug) { title } }"
MAX_ROUNDS = 30
READS_PER_ROUND = 6


async def graphql(
    client: httpx.AsyncClient,
    query: str,
    variables: dict[str, Any],
    request_id: str,
    **headers: str,
) -> dict[str, Any]:
    response = await client.post(
        "/graphql",
        json={"query": query, "variables": variables},
        headers={"X-Request-ID": request_id, **headers},
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert "errors" not in body, body
    return body["data"]


async def test_a_write_through_one_worker_is_read_through_the_other(tmp_path: Path) -> None:
    assert POSTGRES_URL
    assert REDIS_URL
    async with postgres_schema(POSTGRES_URL, f"cms_multiworker_{os.getpid()}") as url:
        env = {**os.environ, "CMS_DATABASE_URL": url, "CMS_REDIS_URL": REDIS_URL}
        assert cms("migrate", env=env).returncode == 0
        created = cms(
            *("user", "create", "--email", "ed@example.org", "--name", "Ed", "--role", "EDITOR"),
            env=env,
            stdin=PASSWORD + "\n",
        )
        assert created.returncode == 0, created.stderr
        with serving(tmp_path, env, workers=2) as server:
            workers = wait_for(
                lambda: server.worker_pids() if len(server.worker_pids()) == 2 else None,
                timeout=30,
                what="two workers",
            )
            # No keep-alive: every request opens a connection, which either worker may accept.
            limits = httpx.Limits(max_keepalive_connections=0)
            async with httpx.AsyncClient(base_url=server.url, limits=limits, timeout=10) as client:
                login = await graphql(
                    client, LOGIN, {"email": "ed@example.org", "password": PASSWORD}, "login"
                )
                token = login["login"]["token"]
                assert token, login
                crossed = await write_then_read_until_crossed(client, token, server)
    assert crossed["write"] in workers
    assert crossed["read"] in workers
    assert crossed["read"] != crossed["write"]


async def write_then_read_until_crossed(
    client: httpx.AsyncClient, token: str, server: Server
) -> dict[str, int]:
    """Write, then read at once from several connections, until a read by the other worker.

    Every read of every round must see the post its round wrote. Returns the pids of a write
    and of a read of that write that another worker served.
    """
    for n in range(MAX_ROUNDS):
        write_id = f"write-{n}"
        data = await graphql(
            client, CREATE, {"title": f"Round {n}"}, write_id, Authorization=f"Bearer {token}"
        )
        assert data["createPost"]["errors"] == [], data
        slug = data["createPost"]["post"]["slug"]
        read_ids = [f"read-{n}-{i}" for i in range(READS_PER_ROUND)]
        reads = await asyncio.gather(
            *(graphql(client, READ, {"slug": slug}, read_id) for read_id in read_ids)
        )
        assert all(read["post"] == {"title": f"Round {n}"} for read in reads), reads
        # Each request's log line is written as its response ends: wait for this round's.
        request_ids = [write_id, *read_ids]
        served_by = wait_for(
            lambda: logged(request_ids, server.served_by()),  # noqa: B023 - used at once
            timeout=10,
            what="the request log lines",
        )
        for read_id in read_ids:
            if served_by[read_id] != served_by[write_id]:
                return {"write": served_by[write_id], "read": served_by[read_id]}
    raise AssertionError(f"in {MAX_ROUNDS} rounds, one worker served every write and its reads")


def logged(request_ids: list[str], served_by: dict[str, int]) -> dict[str, int] | None:
    """``served_by`` once it names the worker of every one of ``request_ids``."""
    return served_by if all(request_id in served_by for request_id in request_ids) else None
