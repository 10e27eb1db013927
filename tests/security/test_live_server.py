"""Against a real ``cms serve``: the GraphQL-over-HTTP audits, schemathesis, and overload.

Each server is a subprocess on a free local port with its own SQLite file holding the demo
content; it is ready when uvicorn says so on its output (no polling, no sleeps).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from cms import cli

pytestmark = pytest.mark.server

ROOT = Path(__file__).resolve().parents[2]
AUDIT_SCRIPT = ROOT / ".ci" / "graphql-http-audit.mjs"
STARTUP_TIMEOUT = 30


class LiveServer:
    def __init__(self, database: Path, **settings: str) -> None:
        self.database = database
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}/graphql"
        self.env = {
            **os.environ,
            "CMS_ENV": "test",
            "CMS_DATABASE_URL": f"sqlite://{database}",
            "CMS_HOST": "127.0.0.1",
            "CMS_PORT": str(self.port),
            "CMS_SCHEDULER_INTERVAL_SECONDS": "0",
            "CMS_WEBHOOKS_DISPATCH": "false",
            "CMS_REDIS_URL": "",
            **settings,
        }
        self.env.pop("CMS_REDIS_URL")
        self.output: list[str] = []
        self._ready = threading.Event()

    def __enter__(self) -> LiveServer:
        for command in ("migrate", "demo"):
            subprocess.run(  # noqa: S603 - our own CLI
                [sys.executable, "-m", "cms", command],
                env=self.env,
                check=True,
                capture_output=True,
                timeout=120,
            )
        self.process = subprocess.Popen(
            [sys.executable, "-m", "cms", "serve"],
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        # Drained for the server's whole life, or a full pipe would stall it.
        self._reader = threading.Thread(target=self._read_output, daemon=True)
        self._reader.start()
        if not self._ready.wait(STARTUP_TIMEOUT):
            self.__exit__()
            pytest.fail("cms serve did not start:\n" + "".join(self.output))
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.process.terminate()
        self.process.wait(timeout=15)
        self._reader.join(timeout=15)
        assert self.process.stdout is not None
        self.process.stdout.close()

    def _read_output(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.output.append(line)
            if "Application startup complete" in line:
                self._ready.set()

    def snapshot(self) -> str:
        """A digest of every row in the server's database."""
        digest = hashlib.sha256()
        with sqlite3.connect(self.database) as connection:
            tables = [
                name
                for (name,) in connection.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
                )
            ]
            for table in tables:
                rows = connection.execute(f'SELECT * FROM "{table}" ORDER BY 1').fetchall()  # noqa: S608
                digest.update(f"{table}{rows!r}".encode())
        return digest.hexdigest()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


UNLIMITED = {
    "CMS_RATE_LIMIT_REQUESTS": "0",
    "CMS_RATE_LIMIT_COST": "0",
    "CMS_RATE_LIMIT_LOGINS": "0",
    # The graphql-http audit sends its sixty-odd requests at once, each on a connection of its
    # own, from one address; the per-address connection cap is tested in tests/web.
    "CMS_MAX_CONNECTIONS_PER_CLIENT": "1000",
}


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    database = tmp_path_factory.mktemp("live") / "cms.sqlite3"
    with LiveServer(database, **UNLIMITED) as server:
        yield server


def test_the_graphql_over_http_audits_find_no_failure(live_server: LiveServer) -> None:
    node = shutil.which("node")
    if node is None or not (ROOT / "node_modules" / "graphql-http").is_dir():
        pytest.skip("needs Node.js and `npm ci` (graphql-http, from package.json)")
    audit = subprocess.run(  # noqa: S603
        [node, str(AUDIT_SCRIPT), live_server.url],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    print(audit.stdout)  # the warnings, for whoever reads the test log
    assert audit.returncode == 0, audit.stdout + audit.stderr
    assert " 0 error" in audit.stdout


# schemathesis's own not_a_server_error check calls every GraphQL error a server error; here
# expected errors (UNAUTHENTICATED, BAD_USER_INPUT, ...) are answers, and only 5xx, a body
# without data or errors, or a masked INTERNAL_SERVER_ERROR count as failures. (Its pytest
# plugin's lazy schemas do not run under pytest 9, hence the loop over operations.)
def test_schemathesis_finds_no_server_error_and_no_change(live_server: LiveServer) -> None:
    api = schemathesis.graphql.from_url(live_server.url, timeout=30)
    operations = [result.ok() for result in api.get_all_operations()]
    assert len(operations) > 20

    for operation in operations:

        @settings(
            max_examples=8, deadline=None, database=None, suppress_health_check=list(HealthCheck)
        )
        @given(case=operation.as_strategy())
        def call(case: schemathesis.Case) -> None:
            before = live_server.snapshot()
            response = case.call(timeout=30)
            assert response.status_code < 500, response.text
            body = response.json()
            assert "data" in body or "errors" in body, body
            codes = {(e.get("extensions") or {}).get("code") for e in body.get("errors") or []}
            assert "INTERNAL_SERVER_ERROR" not in codes, body
            assert live_server.snapshot() == before, f"{case.operation.label} changed the database"

        call()


def test_serve_passes_the_limits_to_uvicorn(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import uvicorn

    passed: dict[str, object] = {}
    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: passed.update(kwargs))
    monkeypatch.setenv("CMS_DATABASE_URL", f"sqlite://{tmp_path / 'cms.sqlite3'}")
    monkeypatch.setenv("CMS_KEEP_ALIVE_TIMEOUT", "7")
    monkeypatch.setenv("CMS_TRUSTED_PROXIES", "10.0.0.0/8")
    with pytest.raises(SystemExit) as exited:
        cli.main(["serve"])
    assert exited.value.code == 0
    # Connection caps and timeouts (tests/web/test_connections.py); uvicorn's own
    # limit_concurrency would count idle connections against requests.
    assert passed["http"] == "cms.web.connections:GuardedHttpProtocol"
    assert passed["timeout_keep_alive"] == 7
    assert "limit_concurrency" not in passed
    assert passed["forwarded_allow_ips"] == ["10.0.0.0/8"]
    assert passed["server_header"] is False
