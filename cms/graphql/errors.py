"""The one place where failures become GraphQL errors with a stable ``extensions.code``.

Expected failures (``cms.errors.CMSError``) keep their message and gain their code. GraphQL's own
syntax, validation and variable errors keep their message too. Anything else is a bug: its
details are logged with a traceback under a fresh error id, and the client sees only
"Internal server error" and that id.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator

from graphql import ExecutionResult as GraphQLExecutionResult
from graphql.error import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.types.execution import ExecutionResult

from cms.errors import INTERNAL_ERROR_MESSAGE, CMSError, ErrorCode

logger = logging.getLogger("cms.graphql")


def classify(error: GraphQLError) -> GraphQLError:
    """``error`` with a code in its extensions, masked if it was not an expected failure."""
    original = error.original_error
    if isinstance(original, CMSError):
        extensions: dict[str, str] = {"code": original.code}
        if original.field is not None:
            extensions["field"] = original.field
        return _with_extensions(error, error.message, extensions)
    if original is None or isinstance(original, GraphQLError):
        return _with_extensions(error, error.message, {"code": _graphql_error_code(error)})
    error_id = uuid.uuid4().hex
    logger.error(
        "unexpected error %s at %s",
        error_id,
        error.path,
        exc_info=(type(original), original, original.__traceback__),
    )
    return _with_extensions(
        error,
        INTERNAL_ERROR_MESSAGE,
        {"code": ErrorCode.INTERNAL_SERVER_ERROR, "errorId": error_id},
        keep_original=False,
    )


def _graphql_error_code(error: GraphQLError) -> str:
    if error.extensions and isinstance(error.extensions.get("code"), str):
        return str(error.extensions["code"])
    if error.message.startswith("Syntax Error"):
        return ErrorCode.GRAPHQL_PARSE_FAILED
    if error.message.startswith("Variable "):
        return ErrorCode.BAD_USER_INPUT
    return ErrorCode.GRAPHQL_VALIDATION_FAILED


def _with_extensions(
    error: GraphQLError, message: str, extensions: dict[str, str], *, keep_original: bool = True
) -> GraphQLError:
    return GraphQLError(
        message=message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        original_error=error.original_error if keep_original else None,
        extensions={**(error.extensions or {}), **extensions},
    )


class ErrorCodes(SchemaExtension):
    """Gives every error of an operation its code, masking the unexpected ones."""

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        if isinstance(result, GraphQLExecutionResult | ExecutionResult) and result.errors:
            result.errors = [classify(error) for error in result.errors]

    def on_stream_result(self, result: object) -> Iterator[None]:
        # Subscriptions send each event as it comes, long before on_operation ends; their
        # errors get codes (and unexpected ones are masked) here, before they are sent.
        # Classifying twice is harmless: codes already given are kept.
        if isinstance(result, GraphQLExecutionResult | ExecutionResult) and result.errors:
            result.errors = [classify(error) for error in result.errors]
        yield
