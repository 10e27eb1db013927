"""/healthz says the process is alive; /readyz says whether it can serve."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from tortoise.migrations.graph import MigrationKey

from cms.app import create_app
from cms.settings import Settings
from cms.web import health

REDIS_URL = os.environ.get("CMS_TEST_REDIS_URL")


@asynccontextmanager
async def client_for(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, manage_database=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


async def test_healthz_answers_while_the_process_runs(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


async def test_readyz_is_ready_on_a_migrated_database(client: httpx.AsyncClient) -> None:
    response = await client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ready",
        "checks": {"database": "ok", "migrations": "ok"},
    }
    assert response.headers["Cache-Control"] == "no-store"


async def test_an_empty_redis_url_means_no_redis(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As docker compose passes a variable that is declared but unset.
    monkeypatch.setenv("CMS_REDIS_URL", "")
    configured = Settings(database_url=settings.database_url, env="test")
    assert configured.redis_url is None
    async with client_for(configured) as client:
        response = await client.get("/readyz")
    assert response.json()["checks"] == {"database": "ok", "migrations": "ok"}


async def test_readyz_is_unavailable_while_a_migration_is_pending(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    shipped = health._shipped_migrations(Settings())
    monkeypatch.setattr(
        health, "_shipped", {*shipped, MigrationKey(app_label="models", name="9999_future")}
    )
    response = await client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["migrations"] == "pending: models.9999_future"


async def test_readyz_is_unavailable_when_the_database_fails(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def refused() -> str:
        raise ConnectionRefusedError

    monkeypatch.setattr(health, "_database", refused)
    response = await client.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "checks": {
            "database": "error: ConnectionRefusedError",
            "migrations": "not checked: the database is unavailable",
        },
    }


async def test_readyz_gives_up_on_a_check_that_hangs(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def hangs() -> str:
        await asyncio.Event().wait()
        return "ok"

    monkeypatch.setattr(health, "_database", hangs)
    monkeypatch.setattr(health, "CHECK_TIMEOUT", 0.05)
    response = await client.get("/readyz")
    assert response.json()["checks"]["database"] == "error: no answer within 0.05 s"


async def test_readyz_is_unavailable_when_redis_is_configured_but_down(
    settings: Settings,
) -> None:
    # Port 1 on loopback: nothing listens there, so the connection is refused at once.
    down = settings.model_copy(update={"redis_url": "redis://127.0.0.1:1/0"})
    async with client_for(down) as client:
        response = await client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["redis"].startswith("error: ")


@pytest.mark.skipif(not REDIS_URL, reason="needs Redis: set CMS_TEST_REDIS_URL")
async def test_readyz_checks_redis_when_configured(settings: Settings) -> None:
    async with client_for(settings.model_copy(update={"redis_url": REDIS_URL})) as client:
        response = await client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"]["redis"] == "ok"
