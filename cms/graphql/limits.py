"""What one GraphQL document may ask for, checked before any resolver runs.

Each limit answers with a readable message and its own ``extensions.code``:

=====================================================  ==========================  ================
Limit                                                  Setting                     Code
=====================================================  ==========================  ================
lexical tokens of the document (parsing stops there)   ``CMS_MAX_TOKENS``          QUERY_TOO_LARGE
depth of nested fields, introspection's excluded       ``CMS_MAX_QUERY_DEPTH``     QUERY_TOO_DEEP
aliases, each use of a fragment counted again          ``CMS_MAX_ALIASES``         TOO_MANY_ALIASES
items of any list, characters of any string, in the    ``CMS_MAX_LIST_ITEMS``,     BAD_USER_INPUT
document or in the variables                           ``CMS_MAX_STRING_LENGTH``
=====================================================  ==========================  ================

Depth and aliases are read from the operation's fields as :mod:`cms.graphql.analysis` collects
them (once per document) by :func:`document_limit_errors`, before execution: ``@skip`` and
``@include`` apply, and a fragment's contribution is computed once however often it is spread,
so a document that spreads fragments inside fragments cannot make these checks slow. Literal
sizes are a graphql-core validation rule, built once per limit value so that strawberry's
ValidationCache keeps recognising it; the variables are checked by :func:`oversized_variable`
once validation has passed. The estimated cost is :mod:`cms.graphql.cost`'s;
:mod:`cms.graphql.guard` applies all of them to each operation.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Mapping
from functools import cache
from typing import Any

from graphql import (
    ArgumentNode,
    GraphQLError,
    ListValueNode,
    ObjectFieldNode,
    StringValueNode,
    ValidationRule,
    VariableDefinitionNode,
)

from cms.errors import ErrorCode, InvalidInput
from cms.graphql.analysis import MAX_DEPTH, Analysis

__all__ = [
    "document_limit_errors",
    "is_token_limit_error",
    "literal_size_limit",
    "oversized_variable",
    "query_too_large",
    "without_suggestions",
]


_TOKEN_LIMIT_PREFIX = "Syntax Error: Document contains more than "  # noqa: S105 - a message
# graphql-core appends " Did you mean 'a', 'b' or 'c'?" to some messages; names never hold "?".
_SUGGESTION = re.compile(r" Did you mean [^?]*\?")


def without_suggestions(message: str) -> str:
    """``message`` without graphql-core's "Did you mean ...?" hints (they reveal the schema)."""
    return _SUGGESTION.sub("", message)


def is_token_limit_error(error: GraphQLError) -> bool:
    """Whether the parser gave up because the document has too many tokens."""
    return error.message.startswith(_TOKEN_LIMIT_PREFIX) and "tokens" in error.message


def query_too_large(error: GraphQLError, max_tokens: int) -> GraphQLError:
    return GraphQLError(
        f"The query has more than {max_tokens} tokens; at most {max_tokens} are accepted. "
        "Ask for fewer fields, or split the query.",
        source=error.source,
        positions=error.positions,
        extensions={"code": ErrorCode.QUERY_TOO_LARGE},
    )


def document_limit_errors(
    analysis: Analysis, *, max_depth: int, max_aliases: int
) -> list[GraphQLError]:
    """Errors for an operation nested deeper than ``max_depth`` or using more aliases.

    Aliases are how one request runs the same expensive field many times over; a fragment
    spread twice runs its aliased fields twice, so it counts twice.
    """
    errors = []
    depth, operation = analysis.depth, analysis.operation
    # Past MAX_DEPTH the analysis stopped collecting: refused whatever the setting says.
    if depth > min(max_depth, MAX_DEPTH):
        errors.append(
            GraphQLError(
                f"The query nests fields {depth} levels deep; at most {max_depth} are allowed.",
                operation,
                extensions={"code": ErrorCode.QUERY_TOO_DEEP},
            )
        )
    if analysis.aliases > max_aliases:
        errors.append(
            GraphQLError(
                f"The query uses {analysis.aliases} aliases; at most {max_aliases} are allowed.",
                operation,
                extensions={"code": ErrorCode.TOO_MANY_ALIASES},
            )
        )
    return errors


@cache
def literal_size_limit(max_items: int, max_length: int) -> type[ValidationRule]:
    """A rule refusing list literals longer than ``max_items`` and longer string literals."""

    class LiteralSizeLimit(ValidationRule):
        def enter_list_value(
            self, node: ListValueNode, _key: Any, parent: Any, _path: Any, ancestors: Any
        ) -> None:
            if len(node.values) > max_items:
                field = _argument_path([*ancestors, parent])
                self._refuse(node, field, f"has {len(node.values)} items; at most {max_items}")

        def enter_string_value(
            self, node: StringValueNode, _key: Any, parent: Any, _path: Any, ancestors: Any
        ) -> None:
            if len(node.value) > max_length:
                field = _argument_path([*ancestors, parent])
                self._refuse(
                    node,
                    field,
                    f"is {len(node.value)} characters long; at most {max_length}",
                )

        def _refuse(
            self, node: ListValueNode | StringValueNode, field: str | None, what: str
        ) -> None:
            self.report_error(
                GraphQLError(
                    f"`{field or 'A value'}` {what} are accepted.",
                    node,
                    extensions=_bad_input(field),
                )
            )

    return LiteralSizeLimit


def oversized_variable(
    variables: Mapping[str, object] | None, *, max_items: int, max_length: int
) -> GraphQLError | None:
    """An error for the first list or string in ``variables`` over its limit, else None.

    Runs on the raw JSON before graphql-core coerces it, so that a 10,000-item list costs one
    ``len`` rather than 10,000 coercions and a database query. Walks without recursion: JSON
    can nest deeper than Python's stack.
    """
    pending: deque[tuple[str, object]] = deque((variables or {}).items())
    while pending:
        path, value = pending.popleft()
        if isinstance(value, str):
            if len(value) > max_length:
                return GraphQLError(
                    f"`${path}` is {len(value)} characters long; at most {max_length} are "
                    "accepted.",
                    extensions=_bad_input(path),
                )
        elif isinstance(value, list):
            if len(value) > max_items:
                return GraphQLError(
                    f"`${path}` has {len(value)} items; at most {max_items} are accepted.",
                    extensions=_bad_input(path),
                )
            pending.extend((f"{path}.{index}", item) for index, item in enumerate(value))
        elif isinstance(value, dict):
            for key, item in value.items():
                if len(key) > max_length:
                    return GraphQLError(
                        f"`${path}` has a key {len(key)} characters long.",
                        extensions=_bad_input(path),
                    )
                pending.append((f"{path}.{key}", item))
    return None


def _bad_input(field: str | None) -> dict[str, Any]:
    extensions: dict[str, Any] = {"code": InvalidInput.code}
    if field:
        extensions["field"] = field
    return extensions


def _argument_path(ancestors: Any) -> str | None:
    """``input.sections`` for a value inside ``(input: {sections: [...]})``."""
    names = []
    for node in ancestors:
        if isinstance(node, VariableDefinitionNode):  # a variable's default value
            names.append(node.variable.name.value)
        elif isinstance(node, ArgumentNode | ObjectFieldNode):
            names.append(node.name.value)
    return ".".join(names) or None
