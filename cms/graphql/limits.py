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

The document limits are graphql-core validation rules, built once per limit value so that
strawberry's ValidationCache keeps recognising them; the variables are checked by
:func:`oversized_variable` once validation has passed. The estimated cost is
:mod:`cms.graphql.cost`'s; :mod:`cms.graphql.guard` applies all of them to each operation.

Fragments are followed, and each fragment's contribution is computed once: a document that
spreads fragments inside fragments cannot make these checks slow.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable, Mapping
from functools import cache
from typing import Any

from graphql import (
    ArgumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    ListValueNode,
    ObjectFieldNode,
    OperationDefinitionNode,
    SelectionSetNode,
    StringValueNode,
    ValidationRule,
    VariableDefinitionNode,
)
from graphql.language import SKIP

from cms.errors import InvalidInput

__all__ = [
    "QUERY_TOO_DEEP",
    "QUERY_TOO_LARGE",
    "TOO_MANY_ALIASES",
    "alias_limit",
    "depth_limit",
    "is_token_limit_error",
    "literal_size_limit",
    "oversized_variable",
    "query_too_large",
    "without_suggestions",
]

QUERY_TOO_DEEP = "QUERY_TOO_DEEP"
TOO_MANY_ALIASES = "TOO_MANY_ALIASES"
QUERY_TOO_LARGE = "QUERY_TOO_LARGE"

# GraphiQL's introspection query nests `ofType` a dozen levels deep; the schema it walks is
# finite and the fields cost no database work, so its depth is not the API's depth.
INTROSPECTION_ROOTS = frozenset({"__schema", "__type"})

_TOKEN_LIMIT_PREFIX = "Syntax Error: Document contains more than "  # noqa: S105 - a message
# graphql-core appends " Did you mean 'a', 'b' or 'c'?" to some messages; names never hold "?".
_SUGGESTION = re.compile(r" Did you mean [^?]*\?")

Fragments = Mapping[str, FragmentDefinitionNode]


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
        extensions={"code": QUERY_TOO_LARGE},
    )


@cache
def depth_limit(max_depth: int) -> type[ValidationRule]:
    """A rule refusing operations whose fields nest deeper than ``max_depth``."""

    class QueryDepthLimit(ValidationRule):
        def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> object:
            depth = _measure(node.selection_set, _fragments(self), _deepest)
            if depth > max_depth:
                self.report_error(
                    GraphQLError(
                        f"The query nests fields {depth} levels deep; at most {max_depth} "
                        "are allowed.",
                        node,
                        extensions={"code": QUERY_TOO_DEEP},
                    )
                )
            return SKIP  # the walk above has seen everything below

    return QueryDepthLimit


@cache
def alias_limit(max_aliases: int) -> type[ValidationRule]:
    """A rule refusing operations using more than ``max_aliases`` aliases, fragments included.

    Aliases are how one request runs the same expensive field many times over; a fragment
    spread twice runs its aliased fields twice, so it counts twice.
    """

    class AliasLimit(ValidationRule):
        def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> object:
            aliases = _measure(node.selection_set, _fragments(self), _count_aliases)
            if aliases > max_aliases:
                self.report_error(
                    GraphQLError(
                        f"The query uses {aliases} aliases; at most {max_aliases} are allowed.",
                        node,
                        extensions={"code": TOO_MANY_ALIASES},
                    )
                )
            return SKIP

    return AliasLimit


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


def _fragments(rule: ValidationRule) -> Fragments:
    document = rule.context.document
    return {
        definition.name.value: definition
        for definition in document.definitions
        if isinstance(definition, FragmentDefinitionNode)
    }


def _measure(
    selection_set: SelectionSetNode,
    fragments: Fragments,
    measure: Callable[[SelectionSetNode, Callable[[str], int]], int],
) -> int:
    """Apply ``measure`` to a selection set, with each fragment measured once.

    A fragment that spreads itself (a cycle, which NoFragmentCycles reports) measures 0 here.
    """
    memo: dict[str, int] = {}
    visiting: set[str] = set()

    def fragment(name: str) -> int:
        if name not in memo:
            definition = fragments.get(name)
            if definition is None or name in visiting:
                return 0
            visiting.add(name)
            memo[name] = measure(definition.selection_set, fragment)
            visiting.discard(name)
        return memo[name]

    return measure(selection_set, fragment)


def _deepest(selection_set: SelectionSetNode, fragment: Callable[[str], int]) -> int:
    deepest = 0
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            if selection.name.value in INTROSPECTION_ROOTS:
                continue
            below = _deepest(selection.selection_set, fragment) if selection.selection_set else 0
            deepest = max(deepest, 1 + below)
        elif isinstance(selection, InlineFragmentNode):
            deepest = max(deepest, _deepest(selection.selection_set, fragment))
        elif isinstance(selection, FragmentSpreadNode):
            deepest = max(deepest, fragment(selection.name.value))
    return deepest


def _count_aliases(selection_set: SelectionSetNode, fragment: Callable[[str], int]) -> int:
    total = 0
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            total += selection.alias is not None
            if selection.selection_set:
                total += _count_aliases(selection.selection_set, fragment)
        elif isinstance(selection, InlineFragmentNode):
            total += _count_aliases(selection.selection_set, fragment)
        elif isinstance(selection, FragmentSpreadNode):
            total += fragment(selection.name.value)
    return total
