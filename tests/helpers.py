"""Test helpers shared across the suite: counting the SQL statements a block sends."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from cms.observability.sql import SQLStats, install_sql_counter, measure_sql


@asynccontextmanager
async def assert_max_queries(limit: int) -> AsyncIterator[SQLStats]:
    """Fail if the block sends more than ``limit`` SQL statements (the texts are in the message).

    Counts statements on every Tortoise connection, SQLite or PostgreSQL, including those sent
    by tasks the block spawns (DataLoader batches). The in-process ASGI transport runs the app
    in the test's own context, so requests made through the test client are counted too.
    """
    install_sql_counter()
    with measure_sql(keep_queries=True) as stats:
        yield stats
    queries = "\n".join(f"  {n}. {q}" for n, q in enumerate(stats.queries or [], 1))
    assert stats.statements <= limit, (
        f"expected at most {limit} SQL statements, got {stats.statements}:\n{queries}"
    )
