"""What the HTTP layer learns from GraphQL execution: operation name, error codes, 503.

:class:`OperationObserver` runs after the other extensions have finished with an operation
(it is listed first in the schema, and extensions unwind in reverse order), so the errors it
sees already carry their final ``extensions.code`` (see ``cms.graphql.errors``). It

- names the operation and lists the error codes on the request's record, for the log line
  and the metrics written by ``cms.observability.middleware``;
- counts errors by code (``cms_graphql_errors_total``);
- answers HTTP 503 with ``Retry-After`` when an error is ``SERVICE_UNAVAILABLE``: the database
  could not serve the request in time, and load balancers and clients should back off.
"""

from __future__ import annotations

from collections.abc import Iterator

from graphql.error import GraphQLError
from strawberry.extensions import SchemaExtension

from cms.errors import ErrorCode, ServiceUnavailable
from cms.graphql.context import Context, context_of
from cms.observability.metrics import GRAPHQL_ERRORS
from cms.observability.middleware import current_request

__all__ = ["OperationObserver"]

UNNAMED_OPERATION = "anonymous"


def _code(error: GraphQLError) -> str:
    code = (error.extensions or {}).get("code")
    return code if isinstance(code, str) else ErrorCode.INTERNAL_SERVER_ERROR


class OperationObserver(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        yield
        context = self.execution_context
        errors = list(context.result.errors or []) if context.result is not None else []
        if not errors and context.pre_execution_errors:
            errors = list(context.pre_execution_errors)
        codes = [_code(error) for error in errors]
        for code in codes:
            GRAPHQL_ERRORS.labels(code=code).inc()
        record = current_request()
        if record is not None:
            if context.graphql_document is not None:
                record.operation = context.operation_name or UNNAMED_OPERATION
            record.error_codes.extend(codes)
        if ServiceUnavailable.code in codes:
            self._unavailable(context_of(context), errors)

    @staticmethod
    def _unavailable(context: Context, errors: list[GraphQLError]) -> None:
        response = context.response
        if response is None:  # WebSockets have no status to set
            return
        retry_after = max(
            (
                error.original_error.retry_after
                for error in errors
                if isinstance(error.original_error, ServiceUnavailable)
            ),
            default=1,
        )
        response.status_code = 503
        response.headers["Retry-After"] = str(retry_after)
