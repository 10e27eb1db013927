"""Compiled reads: hot read operations answered from a cached plan with batched SQL on rows.

The standard path resolves a nested read field by field through graphql-core and builds a
model instance per row; for the headline shape (a tag's 20 newest posts with author, tags and
sections) that is thousands of Python calls per field and most of a request's time. The
compiled path plans each validated operation once (``planner``), reads every position of the
response in one statement of rows (``statements``, ``sql``), builds the response's dicts
directly (``plan``, ``loading``) and serializes scalars as Strawberry does (``serialize``).

It plugs in as graphql-core's executor (``executor.CompiledExecutor``), so parsing,
validation and every schema extension run unchanged, and the standard executor stays the
safety net for everything the plan does not cover. The contract is byte-identical responses,
held by ``tests/graphql/compiled``.
"""

from cms.graphql.compiled.executor import (
    EXECUTIONS,
    TEMPLATES,
    CompiledExecutor,
    execution_path,
)

__all__ = ["EXECUTIONS", "TEMPLATES", "CompiledExecutor", "execution_path"]
