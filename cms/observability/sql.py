"""Measuring the SQL a block of code (a request, a test) sends: statements and database time.

Tortoise has no hook for "a statement ran", so :func:`install_sql_counter` wraps the
``execute_*`` methods of the client classes the CMS uses (SQLite and asyncpg, plain and in a
transaction), once per process. A wrapped call adds to every :class:`SQLStats` open in the
calling context; outside :func:`measure_sql` it costs one context-variable lookup.

    with measure_sql(keep_queries=True) as stats:
        await client.post("/graphql", json=...)
    assert stats.statements <= 3, stats.queries

Measurements nest: a test measuring around a request sees the statements that the request's
own measurement (opened by the observability middleware) sees too. DataLoader batches run in
tasks that copy the context of the resolver that scheduled them, so they are measured as well.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

__all__ = ["SQLStats", "current_sql_stats", "install_sql_counter", "measure_sql"]

# One call of any of these sends one statement (or one batch, for execute_many).
EXECUTE_METHODS = (
    "execute_insert",
    "execute_many",
    "execute_query",
    "execute_query_dict",
    "execute_script",
)


@dataclass
class SQLStats:
    """What ran while the measurement was open."""

    statements: int = 0
    seconds: float = 0.0  # time spent awaiting the database, connection waits included
    queries: list[str] | None = None  # the statements' texts, when asked to keep them
    parent: SQLStats | None = field(default=None, repr=False)

    def _add(self, query: str, seconds: float) -> None:
        stats: SQLStats | None = self
        while stats is not None:
            stats.statements += 1
            stats.seconds += seconds
            if stats.queries is not None:
                stats.queries.append(query)
            stats = stats.parent


_current: ContextVar[SQLStats | None] = ContextVar("cms_sql_stats", default=None)


def current_sql_stats() -> SQLStats | None:
    """The innermost measurement open in this context, if any."""
    return _current.get()


@contextmanager
def measure_sql(*, keep_queries: bool = False) -> Iterator[SQLStats]:
    """Measure the SQL run in this context (and in tasks started from it) until the end."""
    install_sql_counter()
    stats = SQLStats(queries=[] if keep_queries else None, parent=_current.get())
    token = _current.set(stats)
    try:
        yield stats
    finally:
        _current.reset(token)


def _measured(method: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    @functools.wraps(method)
    async def execute(self: object, query: str, *args: Any, **kwargs: Any) -> Any:
        stats = _current.get()
        if stats is None:
            return await method(self, query, *args, **kwargs)
        started = time.perf_counter()
        try:
            return await method(self, query, *args, **kwargs)
        finally:
            stats._add(query, time.perf_counter() - started)

    execute.__cms_measured__ = True  # type: ignore[attr-defined]
    return execute


def _client_classes() -> list[type]:
    from tortoise.backends.base_postgres.client import BasePostgresClient
    from tortoise.backends.sqlite.client import SqliteClient, SqliteTransactionWrapper

    classes: list[type] = [SqliteClient, SqliteTransactionWrapper, BasePostgresClient]
    try:  # asyncpg comes with the optional "postgres" extra
        from tortoise.backends.asyncpg.client import AsyncpgDBClient, TransactionWrapper
    except ImportError:
        return classes
    return [*classes, AsyncpgDBClient, TransactionWrapper]


@functools.cache
def install_sql_counter() -> None:
    """Wrap the execute methods where each client class defines them (once per process).

    Only the defining class is wrapped, and none of those methods calls another, so each
    statement counts once whichever subclass runs it.
    """
    for cls in _client_classes():
        for name in EXECUTE_METHODS:
            method = cls.__dict__.get(name)
            if method is not None and not getattr(method, "__cms_measured__", False):
                setattr(cls, name, _measured(method))
