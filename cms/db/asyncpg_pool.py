"""The PostgreSQL engine: Tortoise's asyncpg client with a deadline on waiting for a connection.

Tortoise waits for a pooled connection as long as it takes, so under overload requests queue up
until their clients give up, and while the server is down they fail with driver errors that the
API can only mask. This engine (``cms.db.tortoise_config`` names it for ``postgres://`` URLs)
instead gives every wait for a connection ``acquire_timeout`` seconds and turns both that
timeout and a server that cannot be reached into :class:`cms.errors.ServiceUnavailable`
(``SERVICE_UNAVAILABLE``, HTTP 503): requests fail fast and say so. The pool is asyncpg's own,
which replaces closed connections when they are next acquired, so the service recovers by itself
once the database answers again.

The module's name contains "asyncpg" on purpose: Tortoise's migration executor picks its schema
editor from the name of the client class's module.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Generator
from typing import Any, TypeVar

import asyncpg  # type: ignore[import-untyped]
from tortoise.backends.asyncpg.client import AsyncpgDBClient, TransactionWrapper
from tortoise.backends.base.client import (
    NestedTransactionContext,
    TransactionContext,
    TransactionContextPooled,
)

from cms.errors import ServiceUnavailable

T = TypeVar("T")
logger = logging.getLogger("cms.db")

UNREACHABLE_MESSAGE = "The database cannot be reached; retry shortly."

# Failures that say "the server is not there right now", as opposed to a bad query.
UNREACHABLE: tuple[type[BaseException], ...] = (
    OSError,  # refused, reset, unreachable host
    asyncpg.PostgresConnectionError,  # the connection broke mid-query
    asyncpg.CannotConnectNowError,  # starting up or shutting down
    asyncpg.AdminShutdownError,  # terminated by a restart
    asyncpg.CrashShutdownError,
    asyncpg.TooManyConnectionsError,  # the server's max_connections is reached
    asyncpg.InternalClientError,  # a connection left mid-operation by a dropped server
)


async def _unavailable_on_failure(awaitable: Awaitable[T], *, waited: float) -> T:
    try:
        return await awaitable
    except TimeoutError as exc:
        raise ServiceUnavailable(
            f"No database connection became free within {waited:g} s; retry shortly."
        ) from exc
    except UNREACHABLE as exc:
        raise ServiceUnavailable(UNREACHABLE_MESSAGE) from exc


class _Acquisition:
    """What ``pool.acquire()`` returns: awaitable, or an ``async with`` block, like asyncpg's."""

    __slots__ = ("_context", "_timeout")

    def __init__(self, context: Any, timeout: float) -> None:
        self._context = context
        self._timeout = timeout

    def __await__(self) -> Generator[Any, None, Any]:
        return _unavailable_on_failure(self._context, waited=self._timeout).__await__()

    async def __aenter__(self) -> Any:
        return await _unavailable_on_failure(self._context.__aenter__(), waited=self._timeout)

    async def __aexit__(self, *exc_info: object) -> None:
        await self._context.__aexit__(*exc_info)


class BoundedPool:
    """An asyncpg pool whose every ``acquire`` waits at most ``acquire_timeout`` seconds."""

    def __init__(self, pool: Any, *, acquire_timeout: float) -> None:
        self._pool = pool
        self.acquire_timeout = acquire_timeout

    def acquire(self, *, timeout: float | None = None) -> _Acquisition:
        timeout = self.acquire_timeout if timeout is None else timeout
        return _Acquisition(self._pool.acquire(timeout=timeout), timeout)

    async def release(self, connection: Any, *, timeout: float | None = None) -> None:  # noqa: ASYNC109 - asyncpg's signature
        try:
            await self._pool.release(connection, timeout=timeout)
        except UNREACHABLE as exc:
            # Resetting a connection the server dropped fails, and asyncpg then terminates it and
            # frees its slot. What broke the connection is the error worth reporting, and the
            # caller is already on its way out with it.
            logger.warning("dropped a broken database connection: %s", exc)

    def __getattr__(self, name: str) -> Any:
        # close, terminate, get_size, expire_connections...: asyncpg's own.
        return getattr(self._pool, name)


class _TranslatesUnreachable:
    """Turns a lost server into ServiceUnavailable for every statement Tortoise runs."""

    async def _translate_exceptions(
        self, func: Callable[..., Awaitable[Any]], *args: Any, **kwargs: Any
    ) -> Any:
        try:
            return await super()._translate_exceptions(func, *args, **kwargs)  # type: ignore[misc]
        except UNREACHABLE as exc:
            raise ServiceUnavailable(UNREACHABLE_MESSAGE) from exc


def _lost(connection: Any) -> bool:
    """Whether the pool has closed this connection (or already taken it back, closed)."""
    try:
        return bool(connection.is_closed())
    except asyncpg.InterfaceError:  # released: asyncpg detaches connections it terminates
        return True


class _Transaction(_TranslatesUnreachable, TransactionWrapper):
    def _in_transaction(self) -> TransactionContext:
        return NestedTransactionContext(_Transaction(self))

    async def commit(self) -> None:
        try:
            await super().commit()
        except (*UNREACHABLE, asyncpg.InterfaceError) as exc:
            if isinstance(exc, asyncpg.InterfaceError) and not _lost(self._connection):
                raise
            raise ServiceUnavailable(
                "The database connection was lost while saving; the change may not have been "
                "saved. Check, then retry."
            ) from exc

    async def rollback(self) -> None:
        try:
            await super().rollback()
        except (*UNREACHABLE, asyncpg.InterfaceError):
            if not _lost(self._connection):
                raise
            # The server ends a transaction whose connection it lost: nothing is left to undo,
            # and failing here would hide the error that caused the rollback.
            self._finalized = True


class PooledAsyncpgClient(_TranslatesUnreachable, AsyncpgDBClient):
    """Tortoise's asyncpg client on a :class:`BoundedPool`.

    Extra credential: ``acquire_timeout`` (seconds). ``minsize``, ``maxsize`` and asyncpg's
    connection options such as ``statement_cache_size`` pass through to asyncpg.
    """

    def __init__(self, *, acquire_timeout: float = 5.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.acquire_timeout = float(acquire_timeout)

    async def create_pool(self, **kwargs: Any) -> Any:
        pool = await asyncpg.create_pool(None, **kwargs)
        return BoundedPool(pool, acquire_timeout=self.acquire_timeout)

    def _in_transaction(self) -> TransactionContext:
        return TransactionContextPooled(_Transaction(self), self._pool_init_lock)

    def pool_stats(self) -> dict[str, int] | None:
        """Connections in use, idle and allowed, or None before the pool exists."""
        pool = self._pool
        if pool is None:
            return None
        idle = int(pool.get_idle_size())
        return {
            "in_use": int(pool.get_size()) - idle,
            "idle": idle,
            "max": int(pool.get_max_size()),
        }


# Read by Tortoise when a connection's "engine" names this module.
client_class = PooledAsyncpgClient
