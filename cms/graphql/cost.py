"""How many nodes an operation asks for (estimated before it runs) and got (counted after).

A *node* is an object the database supplies: a value of a type that implements the ``Node``
interface (posts, sections, tags, authors). The estimate is GitHub's node count:

- each connection is assumed to return a full page: its ``first`` or ``last``, else the
  default page size; a value above the largest page counts as the largest page, since the
  resolver refuses it rather than running it;
- a plain list (a post's ``tags`` and ``sections``) is assumed to hold a default page;
- counts multiply down the tree: ``posts(first: 50) { edges { node { tags { name } } } }``
  asks for 50 posts and 20 tags for each, 1,050 nodes.

Some fields cost work beyond the nodes they return, counted as that many more nodes:

- ``search`` costs its page size * the query's weight (each word or phrase 1, each prefix
  term ``word*`` 4; see :mod:`cms.services.search_syntax`), on top of the posts it returns. Its
  ``query`` is parsed here, before anything runs: one with more terms than the syntax allows
  (or nothing to search for) is refused as BAD_USER_INPUT on ``query``. So
  ``search(query: "a* b*", first: 100) { edges { node { title } } }`` costs 100 + 100 * 8.

Stored rendered text counts too (:data:`TEXT_WEIGHTS`): a Section's ``html`` or ``plainText``
may hold up to ``MAX_RENDERED_BYTES`` (512 KiB), and each selection of one counts as one node
per ``BYTES_PER_NODE`` (64 KiB) of that bound, 8 nodes a section, in the estimate; the count
after execution counts one per started 64 KiB actually returned.

Introspection fields and ``__typename`` cost nothing, nor do fields that ``@skip``/``@include``
leave out. Fields selected twice under one response key are merged first, as execution merges
them; fragments on different types of an abstract field both count (an upper bound).

:func:`count_nodes` walks the response data along the same selections, so that clients see how
close the estimate came (``extensions.cost.actual``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    BooleanValueNode,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    InlineFragmentNode,
    NamedTypeNode,
    SelectionNode,
    SelectionSetNode,
    VariableNode,
    get_named_type,
    get_operation_ast,
    value_from_ast,
)

from cms.rendering.markdown import MAX_RENDERED_BYTES
from cms.services.search_syntax import parse_query

__all__ = ["NODE_INTERFACE", "PageSizes", "count_nodes", "estimate_cost"]

NODE_INTERFACE = "Node"

# Stored text: (type, field) -> the nodes one selection may cost, by the size bound of its value.
BYTES_PER_NODE = 64 * 1024
TEXT_WEIGHTS: dict[tuple[str, str], int] = {
    ("Section", "html"): math.ceil(MAX_RENDERED_BYTES / BYTES_PER_NODE),
    ("Section", "plainText"): math.ceil(MAX_RENDERED_BYTES / BYTES_PER_NODE),
}


def _search_weight(arguments: Mapping[str, Any]) -> int:
    query = arguments.get("query")
    # Not a string: execution reports the wrong argument, and nothing runs.
    return parse_query(query).weight if isinstance(query, str) else 1


# The work per item of a page, by field coordinate, for fields whose cost is not only nodes.
# Each reads the field's arguments (as coerced values) and may raise InvalidInput.
PAGE_WORK: Mapping[tuple[str, str], Callable[[Mapping[str, Any]], int]] = {
    ("Query", "search"): _search_weight,
}


@dataclass(frozen=True, slots=True)
class PageSizes:
    default: int
    maximum: int


# (the type a field was selected on, the field) per response key, in selection order.
Selected = dict[str, list[tuple[GraphQLNamedType, FieldNode]]]
Selections = tuple[tuple[GraphQLNamedType, SelectionSetNode], ...]


def estimate_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    *,
    operation_name: str | None,
    variables: Mapping[str, Any] | None,
    pages: PageSizes,
) -> int:
    """The nodes the operation may return, assuming every list comes back full."""
    walk = _Walk(schema, document, variables)
    root = walk.root(operation_name)
    return walk.estimate(root, multiplier=1, page=None, pages=pages) if root else 0


def count_nodes(
    schema: GraphQLSchema,
    document: DocumentNode,
    *,
    operation_name: str | None,
    variables: Mapping[str, Any] | None,
    data: Mapping[str, Any] | None,
) -> int:
    """The nodes ``data`` (the operation's response data) holds."""
    walk = _Walk(schema, document, variables)
    root = walk.root(operation_name)
    return walk.count(root, data) if root and data else 0


class _Walk:
    """One operation's selections, with fragments resolved and directives applied."""

    def __init__(
        self, schema: GraphQLSchema, document: DocumentNode, variables: Mapping[str, Any] | None
    ) -> None:
        self.schema = schema
        self.document = document
        self.variables = dict(variables or {})
        self.fragments = {
            definition.name.value: definition
            for definition in document.definitions
            if isinstance(definition, FragmentDefinitionNode)
        }
        self._collected: dict[tuple[int, ...], Selected] = {}

    def root(self, operation_name: str | None) -> Selections | None:
        operation = get_operation_ast(self.document, operation_name)
        if operation is None:
            return None
        root_type = self.schema.get_root_type(operation.operation)
        if root_type is None:
            return None
        return ((root_type, operation.selection_set),)

    def estimate(
        self, selections: Selections, *, multiplier: int, page: int | None, pages: PageSizes
    ) -> int:
        total = 0
        for owner, field, nodes in self._fields(selections):
            named = get_named_type(field.type)
            # Inside a connection, its lists (edges) hold the connection's page.
            size = page if page is not None else pages.default
            items = multiplier * size if _is_list(field.type) else multiplier
            if _is_node(named):
                total += items
            page_work = PAGE_WORK.get((owner.name, nodes[0].name.value))
            if page_work is not None:
                work = page_work(self._args(field, nodes[0]))
                total += items * self._page(field, nodes[0], pages) * work
            total += items * TEXT_WEIGHTS.get((owner.name, nodes[0].name.value), 0)
            below = _below(named, nodes)
            if below:
                inner_page = self._page(field, nodes[0], pages) if _is_connection(field) else None
                total += self.estimate(below, multiplier=items, page=inner_page, pages=pages)
        return total

    def count(self, selections: Selections, value: Mapping[str, Any]) -> int:
        total = 0
        for owner, field, nodes in self._fields(selections):
            key = _response_key(nodes[0])
            if key in value:
                total += self._count_value(get_named_type(field.type), nodes, value[key])
                if (owner.name, nodes[0].name.value) in TEXT_WEIGHTS:
                    total += _text_nodes(value[key])
        return total

    def _count_value(self, named: GraphQLNamedType, nodes: list[FieldNode], value: Any) -> int:
        if isinstance(value, list):
            return sum(self._count_value(named, nodes, item) for item in value)
        if not isinstance(value, Mapping):
            return 0
        below = _below(named, nodes)
        return _is_node(named) + (self.count(below, value) if below else 0)

    def _fields(
        self, selections: Selections
    ) -> Iterable[tuple[GraphQLNamedType, GraphQLField, list[FieldNode]]]:
        """Each selected field once per response key: its type, definition and nodes."""
        for entries in self._collect(selections).values():
            owner, first = entries[0]
            name = first.name.value
            if name.startswith("__"):
                continue
            fields = getattr(owner, "fields", None)
            field = fields.get(name) if isinstance(fields, Mapping) else None
            if field is not None:
                yield owner, field, [node for _, node in entries]

    def _collect(self, selections: Selections) -> Selected:
        # The same selections are collected once per object of a list; remember them.
        key = tuple(id(part) for pair in selections for part in pair)
        collected = self._collected.get(key)
        if collected is None:
            collected = {}
            visited: set[str] = set()
            for parent, selection_set in selections:
                self._collect_into(parent, selection_set, collected, visited)
            self._collected[key] = collected
        return collected

    def _collect_into(
        self,
        parent: GraphQLNamedType,
        selection_set: SelectionSetNode,
        collected: Selected,
        visited: set[str],
    ) -> None:
        for selection in selection_set.selections:
            if not self._included(selection):
                continue
            if isinstance(selection, FieldNode):
                collected.setdefault(_response_key(selection), []).append((parent, selection))
            elif isinstance(selection, InlineFragmentNode):
                condition = self._type(selection.type_condition) or parent
                self._collect_into(condition, selection.selection_set, collected, visited)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if fragment is None or name in visited:
                    continue
                visited.add(name)
                condition = self._type(fragment.type_condition) or parent
                self._collect_into(condition, fragment.selection_set, collected, visited)

    def _included(self, node: SelectionNode) -> bool:
        return (
            self._condition(node, "skip") is not True
            and self._condition(node, "include") is not False
        )

    def _condition(self, node: SelectionNode, directive: str) -> object:
        """The ``if:`` of ``@skip``/``@include`` on ``node``, None when absent.

        Variables are read raw: one of the wrong type is execution's to report, and the
        field counts meanwhile (any value but True/False keeps it).
        """
        for applied in node.directives or ():
            if applied.name.value != directive:
                continue
            for argument in applied.arguments or ():
                if argument.name.value != "if":
                    continue
                value = argument.value
                if isinstance(value, BooleanValueNode):
                    return value.value
                if isinstance(value, VariableNode):
                    return self.variables.get(value.name.value)
            return "unknown"
        return None

    def _type(self, node: NamedTypeNode | None) -> GraphQLNamedType | None:
        return self.schema.get_type(node.name.value) if node is not None else None

    def _args(self, field: GraphQLField, node: FieldNode) -> dict[str, Any]:
        """The field's arguments that coerce, as execution will see them."""
        values = {}
        for argument in node.arguments or ():
            definition = field.args.get(argument.name.value)
            if definition is not None:
                values[argument.name.value] = value_from_ast(
                    argument.value, definition.type, self.variables
                )
        return values

    def _page(self, field: GraphQLField, node: FieldNode, pages: PageSizes) -> int:
        for name in ("first", "last"):
            argument = next((arg for arg in node.arguments or () if arg.name.value == name), None)
            definition = field.args.get(name)
            if argument is None or definition is None:
                continue
            value = value_from_ast(argument.value, definition.type, self.variables)
            # Undefined or None (absent, or a variable of the wrong type) mean the default.
            if isinstance(value, int):
                return min(max(value, 0), pages.maximum)
        return pages.default


def _text_nodes(value: object) -> int:
    """One node per started ``BYTES_PER_NODE`` of stored text actually returned."""
    if not isinstance(value, str):
        return 0
    return math.ceil(len(value.encode()) / BYTES_PER_NODE)


def _below(named: GraphQLNamedType, nodes: list[FieldNode]) -> Selections:
    return tuple((named, node.selection_set) for node in nodes if node.selection_set)


def _response_key(node: FieldNode) -> str:
    return node.alias.value if node.alias else node.name.value


def _is_list(type_: GraphQLOutputType) -> bool:
    if isinstance(type_, GraphQLNonNull):
        type_ = type_.of_type
    return isinstance(type_, GraphQLList)


def _is_connection(field: GraphQLField) -> bool:
    named = get_named_type(field.type)
    return (
        ("first" in field.args or "last" in field.args)
        and isinstance(named, GraphQLObjectType)
        and "edges" in named.fields
    )


def _is_node(named: GraphQLNamedType) -> bool:
    if isinstance(named, GraphQLInterfaceType):
        return named.name == NODE_INTERFACE
    if isinstance(named, GraphQLObjectType):
        return any(interface.name == NODE_INTERFACE for interface in named.interfaces)
    return False
