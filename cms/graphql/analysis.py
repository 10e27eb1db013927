"""One operation's fields, collected once per document: what the checks before execution read.

:func:`analyse` collects the fields of the operation that runs with graphql-core's own
``collect_fields``/``collect_subfields``, which resolve fragments, inline fragments, aliases,
repeated response keys and ``@skip``/``@include`` exactly as execution does. The result, an
:class:`Analysis`, holds

- ``root``: the collected :class:`Selection` of each response key, each with the selections
  below it, which :mod:`cms.graphql.cost` reads to estimate the nodes a request asks for and to
  count the nodes its response holds;
- ``depth`` (introspection's ``__schema``/``__type`` excluded) and ``aliases`` (each aliased
  field node that runs, so a fragment spread in two places counts twice), for
  :mod:`cms.graphql.limits`;
- ``logins``, the ``login`` fields a mutation calls, for :mod:`cms.graphql.guard`;
- ``deprecations``, the deprecated fields, arguments and enum values it uses, for
  :mod:`cms.graphql.deprecation`.

Anything else computed from an analysis alone is built once with :meth:`Analysis.derived` (the
cost module's per-field terms; a compiled plan could be one too). What depends on the other
variables (page sizes, search terms) is read per request from the analysis, never by walking
the document again.

Selections are shared: the fields below the same field nodes on the same type are collected
once and reused wherever they recur, so a document that spreads fragments inside fragments
gives a graph about as large as the document, not a tree as large as its response. For a field
of an interface or union type the fields below are those of every possible type (the first
type to select a response key gives its selection): an upper bound of what runs.

:class:`AnalysisCache` keeps analyses per schema, document text, operation name and the values
of the variables that ``@skip``/``@include`` read, the last :data:`CACHE_SIZE` of each schema.
Documents longer than :data:`MEMO_MAX_CHARS` are analysed every time, never kept.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar
from weakref import WeakKeyDictionary

from graphql import (
    EnumValueNode,
    FieldNode,
    FragmentDefinitionNode,
    GraphQLEnumType,
    GraphQLError,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    ListValueNode,
    ObjectValueNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    ValueNode,
    VariableDefinitionNode,
    VariableNode,
    get_named_type,
    get_operation_ast,
    is_abstract_type,
    is_composite_type,
    type_from_ast,
)
from graphql.execution import get_variable_values
from graphql.execution.collect_fields import (
    FieldDetails,
    FragmentDetails,
    collect_fields,
    collect_subfields,
)
from graphql.execution.values import VariableValues

if TYPE_CHECKING:
    from graphql import DocumentNode
    from strawberry.types import ExecutionContext

__all__ = [
    "CACHE_SIZE",
    "INTROSPECTION_ROOTS",
    "MAX_DEPTH",
    "MEMO_MAX_CHARS",
    "Analysis",
    "AnalysisCache",
    "Selection",
    "Selections",
    "analyse",
    "analysis_for",
]

# Documents are analysed once and kept only up to this size, so that what the cache holds stays
# small whatever clients send; larger documents are analysed every time. The parse and
# validation memos of cms.graphql.guard keep to the same bound.
MEMO_MAX_CHARS = 16_384
CACHE_SIZE = 256

# GraphiQL's introspection query nests `ofType` a dozen levels deep; the schema it walks is
# finite and the fields cost no database work, so its depth is not the API's depth.
INTROSPECTION_ROOTS = frozenset({"__schema", "__type"})

# Fields are collected at most this deep; a deeper operation reads as MAX_DEPTH + 1 levels deep
# (and is refused) rather than exhausting Python's stack.
MAX_DEPTH = 200

LOGIN_FIELD = "login"

_T = TypeVar("_T")


@dataclass(frozen=True, slots=True, eq=False)
class Selection:
    """One response key of a selection set: a field that execution resolves once per object."""

    key: str
    owner: GraphQLObjectType  # the type the field is selected on
    definition: GraphQLField
    details: tuple[FieldDetails, ...]  # the field nodes merged under the key, as collected
    below: Selections  # the fields selected below it (shared where the same nodes recur)

    @property
    def name(self) -> str:
        return self.details[0].node.name.value

    @property
    def node(self) -> FieldNode:
        """The first field node, whose arguments execution reads."""
        return self.details[0].node


Selections = tuple[Selection, ...]


@dataclass(frozen=True, slots=True, eq=False)
class Analysis:
    """What one operation selects, for given values of its ``@skip``/``@include`` variables."""

    schema: GraphQLSchema
    operation: OperationDefinitionNode
    root: Selections
    depth: int
    aliases: int
    logins: int
    deprecations: tuple[tuple[str, str], ...]  # (schema coordinate, reason), in walk order
    _derived: dict[Callable[[Analysis], Any], Any] = field(default_factory=dict, repr=False)

    def derived(self, build: Callable[[Analysis], _T]) -> _T:
        """``build(self)``, computed once per analysis (and so once per cached document).

        Two requests may build the same value at once; both results are equal, one is kept.
        """
        try:
            return self._derived[build]  # type: ignore[no-any-return]
        except KeyError:
            return self._derived.setdefault(build, build(self))  # type: ignore[no-any-return]


class _TooDeep(Exception):
    """Collecting went past MAX_DEPTH levels."""


def analyse(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: Mapping[str, Any] | None,
) -> Analysis | None:
    """The analysis of the operation that runs, or None if none runs.

    None when the document holds no such operation, or when a variable that ``@skip`` or
    ``@include`` reads does not coerce: execution then refuses the operation before any
    resolver runs, so there is nothing to measure.
    """
    operation = get_operation_ast(document, operation_name)
    if operation is None:
        return None
    switches = _switch_values(schema, _switch_definitions(document, operation), variables)
    if switches is None:
        return None
    return _analyse(schema, document, operation, switches)


def _analyse(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation: OperationDefinitionNode,
    switches: VariableValues,
) -> Analysis | None:
    root_type = schema.get_root_type(operation.operation)
    if root_type is None:
        return None
    collector = _Collector(schema, document, operation, switches)
    try:
        root = collector.root(root_type)
    except _TooDeep:
        return Analysis(schema, operation, (), MAX_DEPTH + 1, 0, 0, ())
    logins = (
        sum(len(selection.details) for selection in root if selection.name == LOGIN_FIELD)
        if operation.operation is OperationType.MUTATION
        else 0
    )
    return Analysis(
        schema,
        operation,
        root,
        depth=_depth(root, {}),
        aliases=_aliases(root, {}),
        logins=logins,
        deprecations=_deprecations(schema, operation, root),
    )


class _Collector:
    """Collects an operation's fields, each distinct (type, field nodes) below once."""

    def __init__(
        self,
        schema: GraphQLSchema,
        document: DocumentNode,
        operation: OperationDefinitionNode,
        switches: VariableValues,
    ) -> None:
        self.schema = schema
        self.operation = operation
        self.switches = switches
        self.fragments = {
            definition.name.value: FragmentDetails(definition)
            for definition in document.definitions
            if isinstance(definition, FragmentDefinitionNode)
        }
        self._below: dict[tuple[str, tuple[int, ...]], Selections] = {}

    def root(self, root_type: GraphQLObjectType) -> Selections:
        collected = collect_fields(
            self.schema, self.fragments, self.switches, root_type, self.operation
        )
        return self._selections(root_type, collected.grouped_field_set.items(), level=1)

    def _selections(
        self,
        owner: GraphQLObjectType,
        grouped: Iterable[tuple[str, list[FieldDetails]]],
        level: int,
    ) -> Selections:
        selections = []
        for key, details in grouped:
            definition = self.schema.get_field(owner, details[0].node.name.value)
            if definition is not None:  # validation reports unknown fields; none reach here
                below = self._collect_below(definition, details, level)
                selections.append(Selection(key, owner, definition, tuple(details), below))
        return tuple(selections)

    def _collect_below(
        self, definition: GraphQLField, details: list[FieldDetails], level: int
    ) -> Selections:
        named = get_named_type(definition.type)
        if not is_composite_type(named) or not any(d.node.selection_set for d in details):
            return ()
        if level >= MAX_DEPTH:
            raise _TooDeep
        memo_key = (named.name, tuple(id(detail.node) for detail in details))
        below = self._below.get(memo_key)
        if below is None:
            runtime_types: Any = (
                self.schema.get_possible_types(named) if is_abstract_type(named) else (named,)
            )
            merged: dict[str, Selection] = {}
            for runtime_type in runtime_types:
                collected = collect_subfields(
                    self.schema,
                    self.fragments,
                    self.switches,
                    self.operation,
                    runtime_type,
                    details,
                )
                fresh = [
                    (key, sub)
                    for key, sub in collected.grouped_field_set.items()
                    if key not in merged
                ]
                for selection in self._selections(runtime_type, fresh, level + 1):
                    merged[selection.key] = selection
            below = self._below[memo_key] = tuple(merged.values())
        return below


def _depth(selections: Selections, memo: dict[int, int]) -> int:
    """Levels of nested fields, introspection's excluded; each shared selection measured once."""
    if id(selections) not in memo:
        memo[id(selections)] = max(
            (
                1 + _depth(selection.below, memo)
                for selection in selections
                if selection.name not in INTROSPECTION_ROOTS
            ),
            default=0,
        )
    return memo[id(selections)]


def _aliases(selections: Selections, memo: dict[int, int]) -> int:
    """Aliased field nodes, each counted wherever it runs; each shared selection counted once."""
    if id(selections) not in memo:
        memo[id(selections)] = sum(
            sum(detail.node.alias is not None for detail in selection.details)
            + _aliases(selection.below, memo)
            for selection in selections
        )
    return memo[id(selections)]


def _deprecations(
    schema: GraphQLSchema, operation: OperationDefinitionNode, root: Selections
) -> tuple[tuple[str, str], ...]:
    """The deprecated fields, arguments and enum values used, each once, in walk order."""
    found: dict[str, str] = {}
    for variable in operation.variable_definitions or ():
        if variable.default_value is not None:
            variable_type: Any = type_from_ast(schema, variable.type)
            _deprecated_enum_values(variable.default_value, variable_type, found)
    seen: set[int] = set()
    pending = [root]
    while pending:
        selections = pending.pop()
        if id(selections) in seen:
            continue
        seen.add(id(selections))
        for selection in selections:
            coordinate = f"{selection.owner.name}.{selection.name}"
            if selection.definition.deprecation_reason is not None:
                found.setdefault(coordinate, selection.definition.deprecation_reason)
            for detail in selection.details:
                for argument in detail.node.arguments or ():
                    definition = selection.definition.args.get(argument.name.value)
                    if definition is None:
                        continue
                    if definition.deprecation_reason:
                        found.setdefault(
                            f"{coordinate}({argument.name.value}:)",
                            definition.deprecation_reason,
                        )
                    _deprecated_enum_values(argument.value, definition.type, found)
        # Depth first, in selection order: push the last selection's fields first.
        pending.extend(selection.below for selection in reversed(selections))
    return tuple(found.items())


def _deprecated_enum_values(
    value: ValueNode, type_: GraphQLInputType | None, found: dict[str, str]
) -> None:
    """Add the deprecated enum values written in ``value``, a literal of type ``type_``."""
    if isinstance(type_, GraphQLNonNull):
        type_ = type_.of_type
    if isinstance(value, EnumValueNode) and isinstance(type_, GraphQLEnumType):
        enum_value = type_.values.get(value.value)
        if enum_value is not None and enum_value.deprecation_reason is not None:
            found.setdefault(f"{type_.name}.{value.value}", enum_value.deprecation_reason)
    elif isinstance(value, ListValueNode):
        item_type = type_.of_type if isinstance(type_, GraphQLList) else type_
        for item in value.values:
            _deprecated_enum_values(item, item_type, found)
    elif isinstance(value, ObjectValueNode) and isinstance(type_, GraphQLInputObjectType):
        for object_field in value.fields:
            input_field = type_.fields.get(object_field.name.value)
            if input_field is not None:
                _deprecated_enum_values(object_field.value, input_field.type, found)


def _switch_definitions(
    document: DocumentNode, operation: OperationDefinitionNode
) -> tuple[VariableDefinitionNode, ...]:
    """Definitions of the variables that ``@skip``/``@include`` read anywhere in the document."""
    names: set[str] = set()
    selection_sets: list[SelectionSetNode | None] = [operation.selection_set]
    selection_sets += [
        definition.selection_set
        for definition in document.definitions
        if isinstance(definition, FragmentDefinitionNode)
    ]
    while selection_sets:
        selection_set = selection_sets.pop()
        for selection in selection_set.selections if selection_set else ():
            for directive in selection.directives or ():
                if directive.name.value in ("skip", "include"):
                    names.update(
                        argument.value.name.value
                        for argument in directive.arguments or ()
                        if isinstance(argument.value, VariableNode)
                    )
            # Fragment spreads lead to fragments, which are all in the list already.
            if isinstance(selection, FieldNode | InlineFragmentNode):
                selection_sets.append(selection.selection_set)
    return tuple(
        definition
        for definition in operation.variable_definitions or ()
        if definition.variable.name.value in names
    )


_NO_SWITCHES = VariableValues({}, {})


def _switch_values(
    schema: GraphQLSchema,
    definitions: tuple[VariableDefinitionNode, ...],
    variables: Mapping[str, Any] | None,
) -> VariableValues | None:
    """The switch variables coerced as execution coerces them, or None if they do not coerce."""
    if not definitions:
        return _NO_SWITCHES
    coerced = get_variable_values(schema, definitions, dict(variables or {}), max_errors=1)
    return coerced if isinstance(coerced, VariableValues) else None


class AnalysisCache:
    """The last ``size`` analyses per schema, by document, operation and switch values."""

    def __init__(self, size: int = CACHE_SIZE) -> None:
        self.size = size
        self.analysed = 0  # analyses made for the cache: its misses
        self._entries: WeakKeyDictionary[GraphQLSchema, _SchemaEntries] = WeakKeyDictionary()
        self._lock = threading.Lock()

    def get(
        self,
        schema: GraphQLSchema,
        query: str | None,
        document: DocumentNode,
        operation_name: str | None,
        variables: Mapping[str, Any] | None,
    ) -> Analysis | None:
        if query is None or len(query) > MEMO_MAX_CHARS:
            return analyse(schema, document, operation_name, variables)
        with self._lock:
            entries = self._entries.get(schema)
            if entries is None:
                entries = self._entries[schema] = _SchemaEntries(self.size)
            switches = entries.switches(query, document, operation_name)
        if switches is None:
            return None
        operation, definitions = switches
        values = _switch_values(schema, definitions, variables)
        if values is None:
            return None
        key = (
            query,
            operation_name,
            tuple(values.coerced.get(d.variable.name.value) for d in definitions),
        )
        with self._lock:
            found = entries.analyses.get(key, _MISSING)
            if found is not _MISSING:
                entries.analyses.move_to_end(key)
                return found  # type: ignore[return-value]
        analysis = _analyse(schema, document, operation, values)
        with self._lock:
            self.analysed += 1
            entries.analyses[key] = analysis
            while len(entries.analyses) > self.size:
                entries.analyses.popitem(last=False)
        return analysis

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


_MISSING = object()


class _SchemaEntries:
    """One schema's analyses, and each document's operation and switch variables."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.analyses: OrderedDict[Hashable, Analysis | None] = OrderedDict()
        self._switches: OrderedDict[
            tuple[str, str | None],
            tuple[OperationDefinitionNode, tuple[VariableDefinitionNode, ...]] | None,
        ] = OrderedDict()

    def switches(
        self, query: str, document: DocumentNode, operation_name: str | None
    ) -> tuple[OperationDefinitionNode, tuple[VariableDefinitionNode, ...]] | None:
        key = (query, operation_name)
        if key in self._switches:
            return self._switches[key]
        operation = get_operation_ast(document, operation_name)
        found = None if operation is None else (operation, _switch_definitions(document, operation))
        self._switches[key] = found
        while len(self._switches) > self.size:
            self._switches.popitem(last=False)
        return found


# Shared by every request of the process: analyses are immutable but for their derived values.
ANALYSES = AnalysisCache()


def analysis_for(context: ExecutionContext) -> Analysis | None:
    """The analysis of the operation a strawberry execution context runs (see :func:`analyse`)."""
    document = context.graphql_document
    if document is None:
        return None
    try:
        return ANALYSES.get(
            context.schema._schema,
            context.query,
            document,
            context.operation_name,
            context.variables,
        )
    except GraphQLError:
        # A directive argument execution would refuse too (it reports the error itself).
        return None
