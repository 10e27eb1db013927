"""Migration steps written as raw SQL per database: triggers and functions Tortoise cannot model.

A script holds one statement per part, parts separated by a line holding only ``--``: trigger
and function bodies hold semicolons, so splitting on ``;`` (as SQLite's schema editor would)
cuts them apart.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

__all__ = ["run_per_dialect", "statements"]


def statements(script: str) -> list[str]:
    """The statements of ``script``, without a trailing ``;`` (``execute_query`` needs none)."""
    return [part.strip().removesuffix(";") for part in script.split("\n--\n") if part.strip()]


def run_per_dialect(
    sqlite: str, postgres: str, *, feature: str
) -> Callable[[Any, Any], Awaitable[None]]:
    """A ``RunPython`` step that runs the script of the database at hand (``feature`` names
    what it builds, for the refusal of any other database). With ``collect_sql`` (``cms
    migrate --sql``) it lists the statements instead of running them."""

    async def run(apps: Any, schema_editor: Any) -> None:
        dialect = schema_editor.client.capabilities.dialect
        if dialect not in {"sqlite", "postgres"}:
            raise RuntimeError(f"{feature} support SQLite and PostgreSQL, not {dialect}")
        for statement in statements(sqlite if dialect == "sqlite" else postgres):
            if schema_editor.collect_sql:
                schema_editor.collected_sql.append(statement + ";")
            else:
                await schema_editor.client.execute_query(statement)

    return run
