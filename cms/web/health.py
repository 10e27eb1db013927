"""Liveness and readiness probes.

``GET /healthz`` answers 200 while the process can answer at all: restart it when this fails.

``GET /readyz`` answers 200 only when the instance can serve requests, and 503 otherwise:

- the database answers ``SELECT 1``;
- every migration shipped with the code has been applied (a new image whose ``cms migrate``
  has not run yet is not ready);
- Redis answers ``PING``, when ``CMS_REDIS_URL`` is set.

Both bodies are JSON; ``/readyz`` names each check and what went wrong, without secrets. Each
check gives up after ``CHECK_TIMEOUT`` seconds, so a probe never hangs on a dead dependency.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route
from tortoise import connections
from tortoise.migrations.graph import MigrationKey
from tortoise.migrations.loader import MigrationLoader
from tortoise.migrations.recorder import MigrationRecorder

from cms.db import tortoise_config

if TYPE_CHECKING:
    from starlette.requests import Request

    from cms.settings import Settings

__all__ = ["health_routes"]

CHECK_TIMEOUT = 2.0
OK = "ok"

_shipped: set[MigrationKey] | None = None


async def healthz(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> JSONResponse:
    settings: Settings = request.app.state.settings
    checks = {"database": await _check(_database())}
    checks["migrations"] = (
        await _check(_migrations(settings))
        if checks["database"] == OK
        else "not checked: the database is unavailable"
    )
    if settings.redis_url:
        checks["redis"] = await _check(_redis(settings.redis_url))
    ready = all(result == OK for result in checks.values())
    return JSONResponse(
        {"status": "ready" if ready else "unavailable", "checks": checks},
        status_code=200 if ready else 503,
        headers={"Cache-Control": "no-store"},
    )


def health_routes() -> list[BaseRoute]:
    return [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
    ]


async def _check(probe: Any) -> str:
    try:
        async with asyncio.timeout(CHECK_TIMEOUT):
            result: str = await probe
            return result
    except TimeoutError:
        return f"error: no answer within {CHECK_TIMEOUT:g} s"
    except Exception as exc:  # any failure means "not ready", as the body says
        return f"error: {type(exc).__name__}"


async def _database() -> str:
    await connections.get("default").execute_query("SELECT 1")
    return OK


async def _migrations(settings: Settings) -> str:
    applied = set(await MigrationRecorder(connections.get("default")).applied_migrations())
    pending = sorted(
        f"{key.app_label}.{key.name}" for key in _shipped_migrations(settings) - applied
    )
    return f"pending: {', '.join(pending)}" if pending else OK


def _shipped_migrations(settings: Settings) -> set[MigrationKey]:
    """The migrations in the code, read once: they cannot change while the process runs."""
    global _shipped
    if _shipped is None:
        loader = MigrationLoader(tortoise_config(settings)["apps"], MigrationRecorder(None))
        loader.load_disk()
        _shipped = set(loader.disk_migrations)
    return _shipped


async def _redis(url: str) -> str:
    try:
        from redis.asyncio import Redis
    except ImportError:
        return "error: the redis package is not installed (pip install 'cms[redis]')"
    client = Redis.from_url(url, socket_connect_timeout=CHECK_TIMEOUT)
    try:
        await client.ping()
    finally:
        await client.aclose()
    return OK
