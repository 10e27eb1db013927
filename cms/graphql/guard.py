"""The request limits, applied to every GraphQL operation, over HTTP and WebSocket alike.

:class:`OperationGuard` meets an operation at each step, and refuses it before any resolver
(and so any SQL) runs:

1. **Before parsing**: the token cap (``CMS_MAX_TOKENS``, QUERY_TOO_LARGE) and the validation
   rule of :mod:`cms.graphql.limits` for literal sizes, plus graphql-core's
   ``NoSchemaIntrospectionCustomRule`` when introspection is off.
2. **Before execution**, from the operation's :mod:`cms.graphql.analysis` (made once per
   document and ``@skip``/``@include`` values): depth and aliases (QUERY_TOO_DEEP,
   TOO_MANY_ALIASES); oversized variables (BAD_USER_INPUT); the estimated cost of
   :mod:`cms.graphql.cost` (QUERY_TOO_COMPLEX above ``CMS_MAX_QUERY_COST``); the client's cost
   and login allowances of :mod:`cms.web.ratelimit` (RATE_LIMITED, HTTP 429). A refusal becomes
   the operation's result, which tells strawberry not to execute it.
3. **During execution**: ``CMS_OPERATION_TIMEOUT``. Past it the work is cancelled (database
   queries included; a mutation's transaction rolls back) and the answer is TIMEOUT. Only
   awaiting code can be cancelled: a resolver that computes without awaiting runs to its end.
4. **After**: error messages lose graphql-core's "did you mean" hints while introspection is
   off; validation errors get GRAPHQL_VALIDATION_FAILED; :mod:`cms.web.graphql_http` learns
   whether execution began.

``extensions.cost`` reports ``requested`` (the estimate) and ``actual`` (the nodes the
response holds) when the request asks for it, with ``"extensions": {"cost": true}`` beside
its query, and on every response under ``CMS_DEBUG_TIMING``. Other extensions add their
figures to the same object with :func:`report_cost`.

:class:`ParserCache` replaces strawberry's, which parses on entering ``on_parse``, where a
syntax error escapes every ``on_operation`` hook and reaches the client with no code.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import suppress
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING

from graphql import ASTValidationRule, DocumentNode, GraphQLError, GraphQLSchema
from graphql.validation import NoSchemaIntrospectionCustomRule
from starlette.requests import HTTPConnection
from strawberry.extensions import ParserCache as StrawberryParserCache
from strawberry.extensions import SchemaExtension
from strawberry.extensions import ValidationCache as StrawberryValidationCache
from strawberry.schema.schema import validate_document
from strawberry.types.execution import PreExecutionError

from cms.errors import ErrorCode, InvalidInput
from cms.graphql.analysis import MEMO_MAX_CHARS, Analysis, analysis_for
from cms.graphql.context import context_of
from cms.graphql.cost import PageSizes, count_nodes, estimate_cost
from cms.graphql.limits import (
    document_limit_errors,
    is_token_limit_error,
    literal_size_limit,
    oversized_variable,
    query_too_large,
    without_suggestions,
)
from cms.settings import Settings
from cms.web.client_address import connection_key
from cms.web.graphql_http import record_request_error, request_error_status
from cms.web.ratelimit import Decision, RateLimits
from cms.web.responses import http_status

if TYPE_CHECKING:
    from strawberry.types import ExecutionContext

__all__ = [
    "PARSE_MEMO_MAX_CHARS",
    "OperationGuard",
    "ParserCache",
    "ValidationCache",
    "report_cost",
]

# Parses are memoized by document text only up to this size, so that what memos hold stays
# small whatever clients send: a signed-in client's 1 MB documents would otherwise fill each
# memo's entries (128 in strawberry's) with a megabyte each. Larger documents parse every time.
# The bound is the analysis cache's, so that all per-document memos keep the same documents.
PARSE_MEMO_MAX_CHARS = MEMO_MAX_CHARS


def report_cost(execution_context: ExecutionContext, **figures: int | float) -> None:
    """Add ``figures`` to the operation's ``extensions.cost``, keeping what others put there."""
    execution_context.extensions_results.setdefault("cost", {}).update(figures)


class OperationGuard(SchemaExtension):
    def __init__(self) -> None:
        super().__init__()
        self._validation_errors: set[int] = set()
        self._requested: int | None = None
        self._analysis: Analysis | None = None

    @property
    def _settings(self) -> Settings:
        return context_of(self.execution_context).settings

    @property
    def _connection(self) -> HTTPConnection:
        return context_of(self.execution_context).request

    @property
    def _cost_wanted(self) -> bool:
        # Opt-in, since a response's shape should not change under clients that did not ask.
        asked = (self.execution_context.operation_extensions or {}).get("cost") is True
        return asked or self._settings.debug_timing

    def on_operation(self) -> Iterator[None]:
        context, settings = self.execution_context, self._settings
        context.parse_options["max_tokens"] = settings.max_tokens
        rules = [literal_size_limit(settings.max_list_items, settings.max_string_length)]
        if not settings.introspection:
            rules.append(NoSchemaIntrospectionCustomRule)
        context.validation_rules = (*context.validation_rules, *rules)
        yield
        result = context.result
        if result is None or not result.errors:
            return
        result.errors = [self._refined(error) for error in result.errors]
        if result.data is None and all(error.path is None for error in result.errors):
            codes = [str((error.extensions or {}).get("code")) for error in result.errors]
            self._record_request_error(request_error_status(codes))

    def on_validate(self) -> Iterator[None]:
        yield
        # Validation's errors are recognised later, once they sit in the result.
        errors = self.execution_context.pre_execution_errors or []
        self._validation_errors = {id(error) for error in errors}

    async def on_execute(self) -> AsyncIterator[None]:
        context = self.execution_context
        if context.result is not None or context.graphql_document is None:  # refused already
            yield
            return
        refusals = await self._refusals()
        if refusals:
            context.result = PreExecutionError(data=None, errors=refusals)
            yield
            return
        timeout = self._settings.operation_timeout
        try:
            async with asyncio.timeout(timeout):
                yield
        except TimeoutError as exc:
            self._record_request_error(http_status(ErrorCode.TIMEOUT))
            # Raised, since the result cannot be replaced once execution has started;
            # strawberry turns a GraphQLError raised here into the operation's only error.
            raise GraphQLError(
                f"The operation took longer than {timeout:g} s and was cancelled.",
                extensions={"code": ErrorCode.TIMEOUT},
            ) from exc
        result = context.result
        analysis = self._analysis
        if (
            self._cost_wanted
            and self._requested is not None  # estimated, from the analysis
            and analysis is not None
            and result is not None
        ):
            report_cost(context, actual=count_nodes(analysis, result.data))

    async def _refusals(self) -> list[GraphQLError]:
        """Why the operation may not run, if it may not: checked before anything executes."""
        context, settings = self.execution_context, self._settings
        # None when the variables of @skip/@include do not coerce: execution refuses the
        # operation itself before any resolver runs.
        analysis = self._analysis = context_of(context).analysis = analysis_for(context)
        if analysis is not None:
            errors = document_limit_errors(
                analysis, max_depth=settings.max_query_depth, max_aliases=settings.max_aliases
            )
            if errors:
                return errors
        oversized = oversized_variable(
            context.variables,
            max_items=settings.max_list_items,
            max_length=settings.max_string_length,
        )
        if oversized is not None:
            return [oversized]
        if analysis is None:
            return []
        pages = PageSizes(default=settings.default_page_size, maximum=settings.max_page_size)
        try:
            requested = estimate_cost(analysis, variables=context.variables, pages=pages)
        except InvalidInput as exc:  # an argument the estimate had to read is unusable
            return [GraphQLError(exc.message, extensions={"code": exc.code, "field": exc.field})]
        self._requested = requested
        if self._cost_wanted:
            report_cost(context, requested=requested, actual=0)
        if requested > settings.max_query_cost:
            return [
                GraphQLError(
                    f"The query may return up to {requested} nodes; at most "
                    f"{settings.max_query_cost} are allowed. Ask for smaller pages (first/last) "
                    "or fewer nested lists.",
                    extensions={"code": ErrorCode.QUERY_TOO_COMPLEX, "cost": requested},
                )
            ]
        refusal = await self._charge(requested, logins=analysis.logins)
        return [] if refusal is None else [refusal]

    async def _charge(self, requested: int, *, logins: int) -> GraphQLError | None:
        """Take the operation's cost and its logins from the client's allowances."""
        connection = self._connection
        limits = getattr(connection.app.state, "rate_limits", None)  # set by create_app
        if not isinstance(limits, RateLimits):
            return None
        key = connection_key(connection.scope)
        charges = [
            (limit, amount, what)
            for limit, amount, what in (
                (limits.cost, max(1, requested), "query cost points"),
                (limits.logins, logins, "sign-in attempts"),
            )
            if limit is not None and amount
        ]
        # With several, check every allowance before taking from any, so that a refusal costs
        # nothing (a take that is refused takes nothing, so one needs no check).
        for limit, amount, what in charges if len(charges) > 1 else ():
            decision = await limit.check(key, amount)
            if decision is not None and not decision.allowed:
                return self._rate_limited(decision, what)
        for limit, amount, what in charges:
            # Another request of the client's may have spent the room since the check.
            decision = await limit.take(key, amount)
            if decision is not None and not decision.allowed:
                return self._rate_limited(decision, what)
        return None

    def _rate_limited(self, decision: Decision, what: str) -> GraphQLError:
        response = context_of(self.execution_context).response
        if response is not None:  # a WebSocket has no status to set
            response.status_code = 429
            for name, value in decision.headers().items():
                response.headers[name] = value
        return GraphQLError(
            f"Too many {what} from this client: at most {decision.limit} a minute, "
            f"{decision.remaining} left. Try again in {decision.retry_after} s.",
            extensions={"code": ErrorCode.RATE_LIMITED, "retryAfter": decision.retry_after},
        )

    def _refined(self, error: GraphQLError) -> GraphQLError:
        settings = self._settings
        if is_token_limit_error(error):
            return query_too_large(error, settings.max_tokens)
        extensions = dict(error.extensions or {})
        if id(error) in self._validation_errors and "code" not in extensions:
            extensions["code"] = ErrorCode.GRAPHQL_VALIDATION_FAILED
        message = error.message if settings.introspection else without_suggestions(error.message)
        if message == error.message and extensions == (error.extensions or {}):
            return error
        # A new error: validation errors are cached and shared by every request.
        return GraphQLError(
            message,
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            original_error=error.original_error,
            extensions=extensions,
        )

    def _record_request_error(self, status: int) -> None:
        connection = self._connection
        if connection is not None:
            record_request_error(connection, status)


class ParserCache(StrawberryParserCache):
    """strawberry's parser cache, minus one surprise about syntax errors.

    The stock extension parses on entering ``on_parse``, outside the ``try`` that strawberry
    wraps around parsing, so a syntax error (or the token cap) escaped every ``on_operation``
    hook and reached the client without an ``extensions.code``. Here a document that does not
    parse is left unparsed: strawberry parses it again inside its ``try``, and the error stays
    an ordinary pre-execution error. Only failing documents are parsed twice. Documents longer
    than ``PARSE_MEMO_MAX_CHARS`` are left to strawberry's uncached parse too.
    """

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        if context.query is None or len(context.query) > PARSE_MEMO_MAX_CHARS:
            yield
            return
        with suppress(GraphQLError):
            context.graphql_document = self.cached_parse_document(
                context.query, **context.parse_options
            )
        yield


class ValidationCache(StrawberryValidationCache):
    """strawberry's validation memo, keyed by the document's text rather than its tree.

    strawberry's is keyed by the parsed document, a frozen dataclass whose hash walks the whole
    tree on every request (about 50 µs for the benchmark's headline query); the text names the
    same tree and hashes in a fraction of that. Only documents of at most
    ``PARSE_MEMO_MAX_CHARS`` are memoized, since the memo keeps the trees it validated; larger
    ones are validated by strawberry itself, every time.
    """

    def __init__(self) -> None:
        super().__init__()
        self.cached_validate_document = _validated

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        query, document = context.query, context.graphql_document
        if query is None or document is None or len(query) > PARSE_MEMO_MAX_CHARS:
            yield
            return
        context.pre_execution_errors = _validated(
            context.schema._schema, query, tuple(context.validation_rules), _Unkeyed(document)
        )
        yield


@dataclass(frozen=True, slots=True)
class _Unkeyed:
    """A value handed through a memo without being part of its key: all are equal."""

    value: DocumentNode = field(compare=False)

    def __hash__(self) -> int:
        return 0


@lru_cache(maxsize=128)
def _validated(
    schema: GraphQLSchema,
    query: str,
    rules: tuple[type[ASTValidationRule], ...],
    document: _Unkeyed,
) -> list[GraphQLError]:
    """The errors of ``query``, parsed as ``document``, under ``rules`` (kept by text)."""
    return validate_document(schema, document.value, rules)
