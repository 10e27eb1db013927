"""The log format each environment gets, and counting the SQL a block sends."""

from __future__ import annotations

import pytest
from tortoise import connections

from cms.observability.sql import current_sql_stats, measure_sql
from cms.settings import Settings


@pytest.mark.parametrize(
    ("env", "log_format", "json_logs"),
    [
        pytest.param("development", None, False, id="development: text"),
        pytest.param("test", None, True, id="test: json"),
        pytest.param("development", "json", True, id="asked for json"),
        pytest.param("test", "console", False, id="asked for text"),
    ],
)
def test_each_environment_gets_its_log_format(
    env: str, log_format: str | None, json_logs: bool
) -> None:
    settings = Settings.model_validate({"env": env, "log_format": log_format})
    assert settings.json_logs is json_logs


async def test_statements_are_counted_with_their_text_when_asked(migrated_database: None) -> None:
    connection = connections.get("default")
    with measure_sql(keep_queries=True) as outer:
        await connection.execute_query("SELECT 1")
        with measure_sql() as inner:
            await connection.execute_query_dict("SELECT 2")
            assert current_sql_stats() is inner
        assert current_sql_stats() is outer
    assert (inner.statements, inner.queries) == (1, None)
    assert outer.statements == 2
    assert outer.queries == ["SELECT 1", "SELECT 2"]
    assert outer.seconds >= inner.seconds > 0
    assert current_sql_stats() is None


async def test_nothing_is_counted_outside_a_measurement(migrated_database: None) -> None:
    with measure_sql() as stats:
        pass
    await connections.get("default").execute_query("SELECT 1")
    assert stats.statements == 0
