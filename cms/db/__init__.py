"""Database wiring: the Tortoise configuration built from settings, migrations, and lifecycle.

``asyncpg_pool`` is the PostgreSQL engine that ``tortoise_config`` names for ``postgres://`` URLs.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from tortoise import Tortoise
from tortoise.backends.base.config_generator import expand_db_url
from tortoise.migrations.api import migrate

from cms.errors import ServiceUnavailable
from cms.settings import Settings, get_settings

MODELS_MODULE = "cms.models"
MIGRATIONS_MODULE = "cms.migrations"


def tortoise_config(settings: Settings) -> dict[str, Any]:
    """The Tortoise configuration for the database named in ``settings``."""
    return {
        "connections": {"default": connection_config(settings)},
        "apps": {
            "models": {
                "models": [MODELS_MODULE],
                "migrations": MIGRATIONS_MODULE,
                "default_connection": "default",
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


def connection_config(settings: Settings) -> str | dict[str, Any]:
    """SQLite: the URL as it is. PostgreSQL: the URL's parts plus the pool settings.

    PostgreSQL goes through ``cms.db.asyncpg_pool``, whose pool waits at most
    ``db_acquire_timeout`` for a connection (see there). The ``CMS_DB_*`` settings win over
    the same options given in the URL's query string.
    """
    if settings.is_sqlite:
        return settings.database_url
    expanded = expand_db_url(settings.database_url)
    return {
        "engine": "cms.db.asyncpg_pool",
        "credentials": {
            **expanded["credentials"],
            "minsize": settings.db_pool_min,
            "maxsize": settings.db_pool_max,
            "acquire_timeout": settings.db_acquire_timeout,
            "statement_cache_size": settings.db_statement_cache_size,
        },
    }


# Read by the ``tortoise`` command (see [tool.tortoise] in pyproject.toml) for makemigrations.
TORTOISE_ORM = tortoise_config(get_settings())


async def init_orm(settings: Settings) -> None:
    """Open the ORM on this database for every task of the process.

    Tortoise 1.x keeps its state per task by default; the global fallback makes connections
    opened in the app's lifespan visible to the tasks uvicorn runs requests in.
    """
    await Tortoise.init(config=tortoise_config(settings), _enable_global_fallback=True)


async def apply_migrations(settings: Settings) -> None:
    """Apply pending migrations, leaving the ORM initialised on this database."""
    check_sqlite(settings)
    await migrate(config=tortoise_config(settings))
    await init_orm(settings)


@asynccontextmanager
async def database(settings: Settings, *, migrate_first: bool = False) -> AsyncIterator[None]:
    """Open the connections for the duration of the block (for the CLI and the app)."""
    if migrate_first:
        await apply_migrations(settings)
    else:
        check_sqlite(settings)
        await init_orm(settings)
    try:
        yield
    finally:
        await Tortoise.close_connections()


def check_sqlite(settings: Settings) -> None:
    """Open a SQLite database's file once, or raise ServiceUnavailable saying why it cannot be.

    Checked before the ORM first opens the file, because Tortoise opens it while holding its
    client's lock and does not release the lock when opening fails: that statement fails, and
    every later one waits for the lock forever (until ``CMS_OPERATION_TIMEOUT``). With the file
    known to open, the app or command starts; without, it stops at once with this one line.
    Once open, the connection stays open, so later requests never open the file again.
    """
    if not settings.is_sqlite:
        return
    path = expand_db_url(settings.database_url)["credentials"]["file_path"]
    try:
        sqlite3.connect(path).close()
    except sqlite3.Error as exc:
        raise ServiceUnavailable(f"The database cannot be opened: {exc}.") from exc
