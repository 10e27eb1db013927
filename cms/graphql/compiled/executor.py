"""The compiled path inside Strawberry's pipeline: a graphql-core executor that tries it first.

Strawberry parses, validates (with every extension's rules), checks the operation type and
runs its extensions around execution exactly as before; only graphql-core's *execution* of a
validated operation is replaced, through ``strawberry.Schema(execution_context_class=...)``,
the customisation point both libraries document. So whatever the extensions do (error codes,
limits, deprecation notices, the request record, response caching above it) happens on both
paths, and the compiled path never sees a document that failed validation.

:meth:`CompiledExecutor.execute_operation` answers from a plan when it can:

- the feature is on (``CMS_COMPILED_READS``, default on);
- the viewer is anonymous, presented no bad token and no preview token: readers who may see
  drafts have rules the compiled statements do not take on, so they get the standard path;
- no extension wraps resolvers (a ``resolve`` hook expects resolvers to run);
- the planner covers the operation (``cms.graphql.compiled.planner``), whose analysis the
  operation guard left on the context (``cms.graphql.analysis``).

Otherwise, or when running the plan finds anything the standard executor would answer
differently (an argument it rejects, a missing row), the standard executor answers the whole
operation. ``cms_graphql_executions_total{path, reason}`` counts both outcomes, and
``execution_path()`` tells the HTTP layer which one answered.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from contextvars import ContextVar
from typing import Any

from graphql import ExecutionResult
from prometheus_client import Counter
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from cms.graphql.compiled.loading import execute_plan
from cms.graphql.compiled.plan import ObjectNode
from cms.graphql.compiled.planner import plan_of
from cms.graphql.compiled.sql import TemplateCache, Unplannable
from cms.graphql.context import Context

__all__ = ["EXECUTIONS", "TEMPLATES", "CompiledExecutor", "execution_path"]

logger = logging.getLogger("cms.graphql.compiled")

EXECUTIONS = Counter(
    "cms_graphql_executions",
    "GraphQL operations executed, by path (compiled or standard) and why that path.",
    ["path", "reason"],
)
for _label_path, _label_reason in (
    ("compiled", "planned"),
    ("standard", "disabled"),
    ("standard", "viewer"),
    ("standard", "unsupported"),
    ("standard", "runtime"),
    ("standard", "error"),
):
    EXECUTIONS.labels(path=_label_path, reason=_label_reason)

# Shared by every request of the process: statement templates are immutable.
TEMPLATES = TemplateCache()


class CompiledExecutor(StrawberryGraphQLCoreExecutionContext):
    """Executes a validated operation from its compiled plan, or as graphql-core does."""

    def execute_operation(self, serially: bool | None = None) -> Any:
        context = self.context_value
        if not isinstance(context, Context):  # the schema run without our context: a script
            return self._standard("unsupported", serially)
        reason = self._refusal(context)
        analysis = context.analysis
        plan = plan_of(analysis) if reason is None and analysis is not None else None
        if plan is None:
            return self._standard(reason or "unsupported", serially)
        return self._compiled(plan, serially)

    def _refusal(self, context: Context) -> str | None:
        """Why this request may not take the compiled path, before any planning."""
        if not context.settings.compiled_reads:
            return "disabled"
        if self.middleware_manager is not None and self.middleware_manager.middlewares:
            return "unsupported"
        if self.hooks is not None or self.abort_signal is not None:
            return "unsupported"
        if (
            context.viewer.is_authenticated
            or context.visibility.sees_unpublished
            or context.auth_error is not None
        ):
            return "viewer"
        return None

    def _standard(self, reason: str, serially: bool | None) -> Any:
        EXECUTIONS.labels(path="standard", reason=reason).inc()
        _path.set("standard")
        return super().execute_operation(serially)

    async def _compiled(self, plan: ObjectNode, serially: bool | None) -> Any:
        try:
            data = await execute_plan(plan, self, TEMPLATES)
        except Unplannable:
            result = self._standard("runtime", serially)
        except Exception:
            # A bug of the compiled path must cost speed, never a wrong or failed answer.
            logger.warning(
                "compiled execution failed; the standard executor answers", exc_info=True
            )
            result = self._standard("error", serially)
        else:
            EXECUTIONS.labels(path="compiled", reason="planned").inc()
            _path.set("compiled")
            return ExecutionResult(data, None)
        if isinstance(result, Awaitable):
            return await result
        return result


_path: ContextVar[str | None] = ContextVar("cms_execution_path", default=None)


def execution_path() -> str | None:
    """``"compiled"`` or ``"standard"``: the executor of the last operation executed in this
    context (the request's, for the HTTP layer's ``Server-Timing``), or None."""
    return _path.get()
