"""What every hand-written baseline server shares: its connection, /healthz, and the lifespan.

The baselines (``fastest.py``, ``baseline.py``, ``w3_fastest.py``) differ in their statements
and their responses only; each reader subclasses the connection of its engine here, and each
app is one route served by :func:`serve`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Protocol

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route


class Opens(Protocol):
    async def open(self) -> None: ...
    async def close(self) -> None: ...


class SQLiteConnection:
    """One aiosqlite connection (``self.db``), as the CMS's SQLite driver has."""

    def __init__(self, path: str) -> None:
        self.path = path

    async def open(self) -> None:
        import aiosqlite

        self.db = await aiosqlite.connect(self.path)

    async def close(self) -> None:
        await self.db.close()


class PostgresPool:
    """A small asyncpg pool (``self.pool``), optionally reading another schema first."""

    def __init__(self, url: str, *, search_path: str | None = None) -> None:
        self.url = url.replace("asyncpg://", "postgres://")
        self.settings = {"search_path": search_path} if search_path else {}

    async def open(self) -> None:
        import asyncpg  # type: ignore[import-untyped]

        self.pool = await asyncpg.create_pool(
            self.url, min_size=1, max_size=4, server_settings=self.settings
        )

    async def close(self) -> None:
        await self.pool.close()


def sqlite_path(url: str) -> str | None:
    """The file of a ``sqlite://`` URL, or None for any other database."""
    return url.removeprefix("sqlite://") if url.startswith("sqlite://") else None


async def healthz(request: Request) -> Response:
    return Response(b"ok")


def serve(route: Route, db: Opens) -> Starlette:
    """A Starlette app of ``route`` and /healthz, with ``db`` open while it runs."""

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await db.open()
        try:
            yield
        finally:
            await db.close()

    return Starlette(routes=[route, Route("/healthz", healthz)], lifespan=lifespan)
