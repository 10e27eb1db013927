"""The SQLite engine: Tortoise's SQLite client, failing fast when the file cannot be opened.

Tortoise opens a SQLite file on first use, while holding the client's lock; when opening fails
the lock is never released, so that request fails and every later one waits forever (until
``CMS_OPERATION_TIMEOUT`` answers ``TIMEOUT``). This client opens the file before taking the
lock, under a lock of its own that is released whatever happens, and turns a file that cannot
be opened into :class:`cms.errors.ServiceUnavailable` (``SERVICE_UNAVAILABLE``, HTTP 503), as
``cms.asyncpg_pool`` does for a PostgreSQL server that cannot be reached. ``cms serve``
checks the file before it starts (:func:`check_file`).

The module's name contains "sqlite" on purpose: Tortoise's migration executor picks its schema
editor from the name of the client class's module.
"""

from __future__ import annotations

import asyncio
import sqlite3
from typing import Any

from tortoise.backends.base.client import ConnectionWrapper, TransactionContext
from tortoise.backends.sqlite.client import (
    SqliteClient,
    SqliteTransactionContext,
    SqliteTransactionWrapper,
)

from cms.errors import ServiceUnavailable


def check_file(file_path: str) -> None:
    """Open and close the database file, or raise ServiceUnavailable saying why it cannot be."""
    try:
        sqlite3.connect(file_path).close()
    except sqlite3.Error as exc:
        raise _unavailable(exc) from exc


def _unavailable(exc: Exception) -> ServiceUnavailable:
    return ServiceUnavailable(f"The database cannot be opened: {exc}.")


class _OpenedFirst(ConnectionWrapper[Any]):
    __slots__ = ()

    async def __aenter__(self) -> Any:
        await self.client.create_connection(with_db=True)
        return await super().__aenter__()


class _TransactionOpenedFirst(SqliteTransactionContext):
    __slots__ = ("opener",)

    def __init__(self, client: FailFastSqliteClient) -> None:
        super().__init__(SqliteTransactionWrapper(client), client.transaction_lock)
        self.opener = client

    async def __aenter__(self) -> Any:
        await self.opener.create_connection(with_db=True)
        return await super().__aenter__()


class FailFastSqliteClient(SqliteClient):
    """Tortoise's SQLite client whose file is opened outside the client's lock."""

    def __init__(self, file_path: str, **kwargs: Any) -> None:
        super().__init__(file_path, **kwargs)
        self.open_lock = asyncio.Lock()
        self.file_opened = False

    async def create_connection(self, with_db: bool) -> None:
        async with self.open_lock:
            if self.file_opened:
                return
            try:
                # Tried with the standard library first: aiosqlite's thread, left to report a
                # failed open, would report it to an event loop that may be closed by then.
                await asyncio.to_thread(check_file, self.filename)
                await super().create_connection(with_db)
            except (sqlite3.Error, OSError) as exc:
                raise _unavailable(exc) from exc
            self.file_opened = True

    async def close(self) -> None:
        async with self.open_lock:
            await super().close()
            self.file_opened = False

    @property
    def transaction_lock(self) -> asyncio.Lock:
        # The lock Tortoise's SQLite client serialises statements and transactions with (its
        # own acquire_connection and _in_transaction hand it over the same way).
        return self._lock

    def acquire_connection(self) -> ConnectionWrapper[Any]:
        return _OpenedFirst(self.transaction_lock, self)

    def _in_transaction(self) -> TransactionContext:
        return _TransactionOpenedFirst(self)


# Read by Tortoise when a connection's "engine" names this module.
client_class = FailFastSqliteClient
