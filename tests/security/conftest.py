"""Fixtures for the hardening tests: apps built with adjusted settings, and a leak detector."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from cms.app import create_app
from cms.settings import Settings

OpenClient = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]

# What must never reach a client: tracebacks, source paths, SQL, connection strings, secrets.
LEAKS = re.compile(
    r"Traceback|File \"|site-packages|/work/|/home/|/tmp/|\.py\b|\bSELECT\b|\bINSERT\b"
    r"|\bUPDATE\b .* SET|\bFROM \"|postgres(ql)?://|sqlite://|asyncpg|aiosqlite|tortoise"
    r"|no such table|does not exist|hunter2|OperationalError|RuntimeError",
    re.IGNORECASE,
)


def assert_no_leak(response: httpx.Response) -> None:
    """Neither the body nor any header of ``response`` gives away the server's insides."""
    leaked = LEAKS.search(response.text)
    assert leaked is None, f"the body leaks {leaked.group()!r}: {response.text[:500]}"
    for name, value in response.headers.items():
        leaked = LEAKS.search(f"{name}: {value}")
        assert leaked is None, f"the header {name} leaks {leaked.group()!r}"


def codes(body: dict[str, Any]) -> list[str]:
    return [error["extensions"]["code"] for error in body.get("errors") or []]


@pytest.fixture
def app_client(settings: Settings) -> OpenClient:
    """``async with app_client(max_query_depth=3) as client``: the app with other settings.

    ``app=`` receives the app (to reach its state), ``raise_app_exceptions=False`` lets a
    test see the 500 that the server's last-resort handler sends.
    """

    @asynccontextmanager
    async def open_client(
        *,
        app: list[Starlette] | None = None,
        raise_app_exceptions: bool = True,
        **overrides: Any,
    ) -> AsyncIterator[httpx.AsyncClient]:
        built = create_app(settings.model_copy(update=overrides), manage_database=False)
        if app is not None:
            app.append(built)
        transport = httpx.ASGITransport(app=built, raise_app_exceptions=raise_app_exceptions)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client

    return open_client
