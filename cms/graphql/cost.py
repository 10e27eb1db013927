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

Both read the fields that :mod:`cms.graphql.analysis` collected once per document; what each
field adds is worked out once per analysis too (:func:`_terms`), so that a request only reads
its own page sizes and search terms.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    ListValueNode,
    ObjectValueNode,
    ValueNode,
    VariableNode,
    get_named_type,
    value_from_ast,
)

from cms.graphql.analysis import Analysis, Selection, Selections
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


# The arguments that size a page, the first one given winning.
PAGE_ARGUMENTS = ("first", "last")
# Estimates remembered per analysis, for as many combinations of page sizes and search queries.
MAX_KNOWN_ESTIMATES = 64


@dataclass(frozen=True, slots=True)
class PageSizes:
    default: int
    maximum: int


@dataclass(frozen=True, slots=True, eq=False)
class _Term:
    """What one selected field adds to the estimate, all but its page size and search terms."""

    selection: Selection
    is_list: bool
    is_node: bool
    is_connection: bool
    text_weight: int
    page_work: Callable[[Mapping[str, Any]], int] | None
    below: tuple[_Term, ...]
    # The terms below that the count after execution reads: those that are nodes, stored
    # text, or hold such terms. The rest (scalars, mostly) add nothing, so are not walked.
    counted: tuple[_Term, ...]


Terms = tuple[_Term, ...]


def estimate_cost(analysis: Analysis, *, variables: dict[str, Any] | None, pages: PageSizes) -> int:
    """The nodes the operation may return, assuming every list comes back full.

    Remembered per analysis for the values of the variables it reads (page sizes, search
    queries), so that the requests of one document and the same pages cost a lookup.
    """
    estimates = analysis.derived(_Estimates.of)
    key: Hashable = (pages, *((type(v), v) for v in map((variables or {}).get, estimates.reads)))
    try:
        return estimates.known[key]
    except KeyError:
        pass
    except TypeError:  # a variable of the wrong type (a list, say): execution reports it
        return _estimate(estimates.terms, variables, pages)
    cost = _estimate(estimates.terms, variables, pages)
    if len(estimates.known) >= MAX_KNOWN_ESTIMATES:
        estimates.known.clear()
    estimates.known[key] = cost
    return cost


def _estimate(root: Terms, variables: dict[str, Any] | None, pages: PageSizes) -> int:
    # Shared selections recur under the same page size: each is estimated once.
    memo: dict[tuple[int, int | None], int] = {}

    def unit(terms: Terms, page: int | None) -> int:
        """The cost of ``terms`` for one object of their parent."""
        key = (id(terms), page)
        if key not in memo:
            total = 0
            # Inside a connection, its lists (edges) hold the connection's page.
            size = page if page is not None else pages.default
            for term in terms:
                per_item = term.is_node + term.text_weight
                if term.page_work is not None:
                    arguments = _arguments(term.selection, variables)
                    per_item += _page(term.selection, variables, pages) * term.page_work(arguments)
                if term.below:
                    inner = _page(term.selection, variables, pages) if term.is_connection else None
                    per_item += unit(term.below, inner)
                total += (size if term.is_list else 1) * per_item
            memo[key] = total
        return memo[key]

    return unit(root, None)


@dataclass(frozen=True, slots=True, eq=False)
class _Estimates:
    """An analysis's terms, the variables its estimate reads, and the estimates made so far."""

    terms: Terms
    reads: tuple[str, ...]
    known: dict[Hashable, int]

    @classmethod
    def of(cls, analysis: Analysis) -> _Estimates:
        terms = analysis.derived(_terms)
        return cls(terms, tuple(sorted(_variables_read(terms, set()))), {})


def _variables_read(terms: Terms, seen: set[int]) -> set[str]:
    """The variables in the arguments the estimate reads: page sizes and page work's."""
    names: set[str] = set()
    for term in terms:
        if id(term) in seen:
            continue
        seen.add(id(term))
        for argument in term.selection.node.arguments or ():
            if term.page_work is not None or argument.name.value in PAGE_ARGUMENTS:
                names.update(_variables_in(argument.value))
        names.update(_variables_read(term.below, seen))
    return names


def _variables_in(value: ValueNode) -> set[str]:
    if isinstance(value, VariableNode):
        return {value.name.value}
    if isinstance(value, ListValueNode):
        return {name for item in value.values for name in _variables_in(item)}
    if isinstance(value, ObjectValueNode):
        return {name for field in value.fields for name in _variables_in(field.value)}
    return set()


def count_nodes(analysis: Analysis, data: Mapping[str, Any] | None) -> int:
    """The nodes ``data`` (the operation's response data) holds."""
    return _count(analysis.derived(_counted_root), data) if data else 0


def _count(terms: Terms, value: Mapping[str, Any]) -> int:
    total = 0
    for term in terms:
        key = term.selection.key
        if key in value:
            total += _count_value(term, value[key])
            if term.text_weight:
                total += _text_nodes(value[key])
    return total


def _count_value(term: _Term, value: Any) -> int:
    if isinstance(value, list):
        if not term.counted:  # a list of nodes with nothing to count inside: count them
            return term.is_node * sum(isinstance(item, Mapping) for item in value)
        return sum(_count_value(term, item) for item in value)
    if not isinstance(value, Mapping):
        return 0
    return term.is_node + (_count(term.counted, value) if term.counted else 0)


def _terms(analysis: Analysis) -> Terms:
    """The analysis's selections as cost terms, built once per analysis."""
    memo: dict[int, Terms] = {}

    def terms(selections: Selections) -> Terms:
        if id(selections) not in memo:
            memo[id(selections)] = tuple(
                _term(selection, terms(selection.below))
                for selection in selections
                # Introspection costs nothing.
                if not selection.name.startswith("__")
            )
        return memo[id(selections)]

    return terms(analysis.root)


def _term(selection: Selection, below: Terms) -> _Term:
    coordinate = (selection.owner.name, selection.name)
    field = selection.definition
    return _Term(
        selection=selection,
        is_list=_is_list(field.type),
        is_node=_is_node(get_named_type(field.type)),
        is_connection=_is_connection(field),
        text_weight=TEXT_WEIGHTS.get(coordinate, 0),
        page_work=PAGE_WORK.get(coordinate),
        below=below,
        counted=_counted(below),
    )


def _counted_root(analysis: Analysis) -> Terms:
    return _counted(analysis.derived(_terms))


def _counted(terms: Terms) -> Terms:
    """The terms that may add to the count after execution (see ``_Term.counted``)."""
    return tuple(term for term in terms if term.is_node or term.text_weight or term.counted)


def _arguments(selection: Selection, variables: dict[str, Any] | None) -> dict[str, Any]:
    """The field's arguments that coerce, as execution will see them."""
    values = {}
    for argument in selection.node.arguments or ():
        definition = selection.definition.args.get(argument.name.value)
        if definition is not None:
            values[argument.name.value] = value_from_ast(argument.value, definition.type, variables)
    return values


def _page(selection: Selection, variables: dict[str, Any] | None, pages: PageSizes) -> int:
    arguments = selection.node.arguments or ()
    for name in PAGE_ARGUMENTS:
        argument = next((arg for arg in arguments if arg.name.value == name), None)
        definition = selection.definition.args.get(name)
        if argument is None or definition is None:
            continue
        value = value_from_ast(argument.value, definition.type, variables)
        # Undefined or None (absent, or a variable of the wrong type) mean the default.
        if isinstance(value, int):
            return min(max(value, 0), pages.maximum)
    return pages.default


def _text_nodes(value: object) -> int:
    """One node per started ``BYTES_PER_NODE`` of stored text actually returned."""
    if not isinstance(value, str):
        return 0
    return math.ceil(len(value.encode()) / BYTES_PER_NODE)


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
