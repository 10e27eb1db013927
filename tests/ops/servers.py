"""Helpers for tests that run `cms serve` as a real process: ports, databases, logs, deadlines."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import httpx

T = TypeVar("T")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for(condition: Callable[[], T | None], *, timeout: float, what: str) -> T:
    """Poll ``condition`` until it returns something truthy, or fail after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(0.05)


@asynccontextmanager
async def postgres_schema(server_url: str, name: str) -> AsyncIterator[str]:
    """A database URL whose tables live in a fresh schema ``name``, dropped afterwards.

    A schema rather than a database: creating and dropping one is instant, where a database
    costs a checkpoint each time.
    """
    import asyncpg

    admin = await asyncpg.connect(server_url)
    try:
        await admin.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
        await admin.execute(f'CREATE SCHEMA "{name}"')
        yield urlunsplit(urlsplit(server_url)._replace(query=f"schema={name}"))
    finally:
        await admin.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
        await admin.close()


def cms(*args: str, env: dict[str, str], stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "cms", *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


class Server:
    """`cms serve` in a child process, logging JSON lines to a file the test can read."""

    def __init__(self, process: subprocess.Popen[bytes], port: int, log: Path) -> None:
        self.process = process
        self.port = port
        self.log = log
        self.url = f"http://127.0.0.1:{port}"

    def log_lines(self) -> list[dict[str, Any]]:
        lines = []
        for line in self.log.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("{"):
                lines.append(json.loads(line))
        return lines

    def worker_pids(self) -> set[int]:
        return {
            line["pid"]
            for line in self.log_lines()
            if line.get("event") == "Application startup complete."
        }

    def served_by(self) -> dict[str, int]:
        """Request id -> the pid of the worker that answered it."""
        return {
            line["request_id"]: line["pid"]
            for line in self.log_lines()
            if line.get("event") == "request"
        }

    def ready(self) -> bool:
        try:
            return httpx.get(f"{self.url}/readyz", timeout=1).status_code == 200
        except httpx.TransportError:
            return False

    def terminate(self) -> int:
        """SIGTERM, as an orchestrator stops a container; the exit status."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise


@contextmanager
def serving(
    tmp_path: Path, env: dict[str, str], *, workers: int = 1, wait_ready: bool = True
) -> Iterator[Server]:
    """Run `cms serve` until the block ends, ready (``/readyz`` is 200) when it starts."""
    port = free_port()
    log = tmp_path / f"serve-{port}.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [
                sys.executable,
                "-m",
                "cms",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--workers",
                str(workers),
            ],
            env={**os.environ, "CMS_ENV": "test", "CMS_LOG_LEVEL": "info", **env},
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    server = Server(process, port, log)
    try:
        if wait_ready:
            wait_for(
                lambda: server.ready() or process.poll() is not None,
                timeout=60,
                what="cms serve to become ready",
            )
            assert process.poll() is None, log.read_text()
        yield server
    finally:
        server.terminate()
