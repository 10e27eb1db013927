"""A SQLite file that cannot be opened stops the app and the CLI at once, in one line.

Before, the app started anyway; Tortoise kept its lock after the first failed open, so the first
request failed and every later one hung until CMS_OPERATION_TIMEOUT answered TIMEOUT, and
`cms migrate` hung for good.
"""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

import pytest

from cms.app import create_app
from cms.db import database
from cms.errors import ServiceUnavailable
from cms.settings import Settings
from tests.ops.servers import cms


@pytest.fixture
def unopenable(tmp_path: Path) -> str:
    return f"sqlite://{tmp_path / 'missing-directory' / 'cms.sqlite3'}"


async def test_opening_the_database_stops_at_once_saying_why(unopenable: str) -> None:
    settings = Settings(database_url=unopenable, env="test")
    async with asyncio.timeout(2):
        with pytest.raises(ServiceUnavailable, match="cannot be opened"):
            async with database(settings):
                pass


async def test_the_app_refuses_to_start_instead_of_hanging_its_requests(unopenable: str) -> None:
    app = create_app(Settings(database_url=unopenable, env="test"))
    async with asyncio.timeout(2):
        with pytest.raises(ServiceUnavailable, match="cannot be opened"):
            async with app.router.lifespan_context(app):
                pass


def test_migrate_says_so_in_one_line(unopenable: str) -> None:
    started = time.monotonic()
    result = cms("migrate", env={**os.environ, "CMS_DATABASE_URL": unopenable})
    assert time.monotonic() - started < 30
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0, result.stderr
    assert "cannot be opened" in result.stderr


def test_serve_refuses_to_start_in_one_line(unopenable: str) -> None:
    result = cms("serve", "--port", "18201", env={**os.environ, "CMS_DATABASE_URL": unopenable})
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0, result.stderr
    assert unopenable in result.stderr
    assert "cannot be opened" in result.stderr
