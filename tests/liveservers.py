"""Real servers for end-to-end tests: `cms serve` as another worker process, and any ASGI app
under uvicorn inside the test's own event loop (sharing its database connections)."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager

import httpx
import uvicorn
from starlette.types import ASGIApp

STARTUP_TIMEOUT = 30.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def cms_worker(env: dict[str, str]) -> Iterator[str]:
    """`cms serve` in a child process with ``env`` added; yields its base URL once it answers."""
    port = free_port()
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "cms", "serve", "--port", str(port)],
        env={
            **os.environ,
            "CMS_ENV": "test",
            "CMS_LOG_LEVEL": "warning",
            "CMS_SCHEDULER_INTERVAL_SECONDS": "0",
            **env,
        },
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while not _answers(base_url):
            if process.poll() is not None:
                errors = process.stderr.read().decode() if process.stderr else ""
                raise AssertionError(f"cms serve exited with {process.returncode}:\n{errors}")
            if time.monotonic() > deadline:
                raise AssertionError(f"cms serve did not answer within {STARTUP_TIMEOUT:g} s")
            time.sleep(0.05)
        yield base_url
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stderr:
            process.stderr.close()


def _answers(base_url: str) -> bool:
    try:
        return httpx.get(f"{base_url}/healthz", timeout=1).status_code == 200
    except httpx.TransportError:
        return False


@asynccontextmanager
async def served(app: ASGIApp, *, lifespan: str = "on") -> AsyncIterator[str]:
    """``app`` behind uvicorn on a free port, in this event loop; yields ``127.0.0.1:port``."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan=lifespan)
    )
    task = asyncio.create_task(server.serve())
    try:
        async with asyncio.timeout(STARTUP_TIMEOUT):
            while not server.started:
                if task.done():
                    task.result()
                    raise AssertionError("uvicorn stopped before it started")
                await asyncio.sleep(0.01)
        yield f"127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
