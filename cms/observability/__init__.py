"""Measuring what a request costs: SQL statements and database time."""

from cms.observability.sql import SQLStats, current_sql_stats, install_sql_counter, measure_sql

__all__ = ["SQLStats", "current_sql_stats", "install_sql_counter", "measure_sql"]
