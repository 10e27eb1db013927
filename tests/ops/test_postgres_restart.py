"""PostgreSQL restarted under load: the service answers again within 30 s by itself, and no
write is half-applied.

The test restarts a PostgreSQL server of its own (initdb into a temporary directory, on a free
port, with the machine's PostgreSQL binaries), not the shared one: other test sessions using
that server must not see it go away, and a failing test can never leave it stopped. The private
server is stopped when the test ends, whatever happens.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import POSTGRES_URL
from tests.ops.servers import cms, free_port, serving

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not POSTGRES_URL, reason="needs PostgreSQL: set CMS_TEST_POSTGRES_URL"),
]

RECOVERY_DEADLINE = 30.0
SECTIONS = 3
PASSWORD = "correct horse battery staple"
LOGIN = """
mutation Login($email: String!, $password: String!) {
  login(input: {email: $email, password: $password}) { token }
}
"""
CREATE = """
mutation Create($title: String!) {
  createPost(input: {
    title: $title, status: PUBLISHED,
    sections: [{body: "One."}, {heading: "Two", body: "Two."}, {heading: "Three", body: "3."}]
  }) { post { slug } errors { code } }
}
"""
READ = "{ posts(first: 1) { totalCount } }"


def postgres_bindir() -> Path | None:
    pg_config = shutil.which("pg_config")
    if pg_config is None:
        return None
    found = subprocess.run(  # noqa: S603 - pg_config from PATH
        [pg_config, "--bindir"], capture_output=True, text=True, check=False
    )
    bindir = Path(found.stdout.strip())
    return bindir if (bindir / "initdb").exists() and (bindir / "pg_ctl").exists() else None


@dataclass
class Cluster:
    """A PostgreSQL server in a directory of its own, run as the postgres user under root."""

    bindir: Path
    directory: Path
    port: int

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/postgres"

    def run(self, tool: str, *args: str) -> None:
        command = [str(self.bindir / tool), *args]
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=60)  # noqa: S603

    def pg_ctl(self, action: str, *args: str) -> None:
        options = f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 -c fsync=off"
        self.run(
            "pg_ctl",
            *(action, "-D", str(self.directory / "data"), "-l", str(self.directory / "log")),
            *("-o", options, "-w", "-t", "30", *args),
        )


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    bindir = postgres_bindir()
    if bindir is None:
        pytest.skip("needs PostgreSQL's server binaries (pg_config --bindir)")
    directory = Path(tempfile.mkdtemp(prefix="cms-pg-"))
    if os.geteuid() == 0:
        shutil.chown(directory, "postgres")
    cluster = Cluster(bindir, directory, free_port())
    try:
        cluster.run("initdb", "-D", str(directory / "data"), "-U", "postgres")
        cluster.pg_ctl("start")
        yield cluster
    finally:
        with contextlib.suppress(subprocess.CalledProcessError):  # it never started
            cluster.pg_ctl("stop", "-m", "immediate")
        shutil.rmtree(directory, ignore_errors=True)


@dataclass
class Load:
    """Writes and reads sent while the database restarts, and what came back."""

    written: list[str] = field(default_factory=list)  # titles whose createPost succeeded
    failures: list[str] = field(default_factory=list)  # error codes or transport errors
    stop: asyncio.Event = field(default_factory=asyncio.Event)

    async def run(self, client: httpx.AsyncClient, token: str, worker: int) -> None:
        for n in range(10_000):
            if self.stop.is_set():
                return
            title = f"Load {worker}-{n}"
            outcome = await send(client, CREATE, {"title": title}, Authorization=f"Bearer {token}")
            if outcome is None:
                self.written.append(title)
            else:
                self.failures.append(outcome)
            await send(client, READ, {})


async def send(
    client: httpx.AsyncClient, query: str, variables: dict[str, Any], **headers: str
) -> str | None:
    """None when the operation succeeded, else what went wrong."""
    try:
        response = await client.post(
            "/graphql", json={"query": query, "variables": variables}, headers=headers
        )
    except httpx.TransportError as exc:
        return type(exc).__name__
    body = response.json()
    if body.get("errors"):
        return str(body["errors"][0].get("extensions", {}).get("code"))
    payload = next(iter((body.get("data") or {}).values()), None)
    if isinstance(payload, dict) and payload.get("errors"):
        return str(payload["errors"][0]["code"])
    return None if response.status_code == 200 else f"HTTP {response.status_code}"


async def test_the_service_recovers_from_a_database_restart_by_itself(
    cluster: Cluster, tmp_path: Path
) -> None:
    import asyncpg

    admin = await asyncpg.connect(cluster.url)
    await admin.execute("CREATE DATABASE cms")
    await admin.close()
    url = cluster.url.rsplit("/", 1)[0] + "/cms"
    env = {**os.environ, "CMS_DATABASE_URL": url, "CMS_DB_ACQUIRE_TIMEOUT": "2"}
    assert cms("migrate", env=env).returncode == 0
    created = cms(
        *("user", "create", "--email", "ops@example.org", "--name", "Ops", "--role", "EDITOR"),
        env=env,
        stdin=PASSWORD + "\n",
    )
    assert created.returncode == 0, created.stderr

    with serving(tmp_path, env) as server:
        async with httpx.AsyncClient(base_url=server.url, timeout=15) as client:
            login = await client.post(
                "/graphql",
                json={
                    "query": LOGIN,
                    "variables": {"email": "ops@example.org", "password": PASSWORD},
                },
            )
            token = login.json()["data"]["login"]["token"]
            load = Load()
            workers = [asyncio.create_task(load.run(client, token, w)) for w in range(3)]
            try:
                await until(lambda: len(load.written) >= 5, within=20, what="writes to flow")
                restarted = time.monotonic()
                await asyncio.to_thread(cluster.pg_ctl, "restart", "-m", "fast")
                await until_answers(client, deadline=restarted + RECOVERY_DEADLINE)
                recovered_after = time.monotonic() - restarted
                written_before = len(load.written)
                await until(
                    lambda: len(load.written) >= written_before + 5,
                    within=20,
                    what="writes to flow again",
                )
            finally:
                load.stop.set()
                await asyncio.gather(*workers)
        assert server.process.poll() is None, "the service had to restart"

    assert recovered_after < RECOVERY_DEADLINE
    # While the database was away, requests failed fast and said why.
    assert set(load.failures) <= {"SERVICE_UNAVAILABLE"}, load.failures
    connection = await asyncpg.connect(url)
    try:
        rows = await connection.fetch(
            "SELECT p.title, count(s.id) AS sections FROM post p "
            "LEFT JOIN section s ON s.post_id = p.id GROUP BY p.id, p.title"
        )
    finally:
        await connection.close()
    sections = {row["title"]: row["sections"] for row in rows}
    assert set(load.written) <= set(sections), "a write reported as done is missing"
    half_applied = {title: n for title, n in sections.items() if n != SECTIONS}
    assert not half_applied, f"posts without all their sections: {half_applied}"


async def until(condition: Any, *, within: float, what: str) -> None:
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within:g} s waiting for {what}")
        await asyncio.sleep(0.05)


async def until_answers(client: httpx.AsyncClient, *, deadline: float) -> None:
    """Poll a read until it succeeds, or fail at ``deadline`` (a monotonic time)."""
    while await send(client, READ, {}) is not None:
        if time.monotonic() > deadline:
            raise AssertionError(f"no successful read within {RECOVERY_DEADLINE:g} s")
        await asyncio.sleep(0.1)
