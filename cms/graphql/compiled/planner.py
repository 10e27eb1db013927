"""From a validated operation to a plan, or to a refusal: the compiled path's coverage rules.

The planner takes only what it fully understands, and refuses (``None``: the standard
executor answers the whole operation) anything else:

- queries only, without operation directives; no ``@defer``/``@stream``, no directive on a
  field but ``@skip``/``@include``;
- the fields that declare how they load (``cms.graphql.declarations``, read from the schema):
  the planner names none of them, so a field declared on its type is compiled; connections
  with ``edges``, ``node``, ``cursor``, ``pageInfo`` and ``totalCount``; ``__typename``
  anywhere.

Fields are collected with graphql-core's own ``collect_fields``/``collect_subfields``, which
resolve fragments, inline fragments, aliases, repeated keys and ``@skip``/``@include`` exactly
as the standard executor does, response-key order included. Since ``@skip``/``@include`` may
read variables, a plan is cached under the document, the operation name and the values of
those variables only; other variables (page sizes, slugs, cursors) are read per request.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable, Iterator
from typing import Any, cast

from graphql import (
    FieldNode,
    FragmentSpreadNode,
    GraphQLField,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationType,
    SelectionSetNode,
    VariableNode,
    get_named_type,
)
from graphql.execution.collect_fields import (
    CollectedFields,
    FieldDetailsList,
    collect_fields,
    collect_subfields,
)
from tortoise.models import Model

from cms.graphql import declarations as declared
from cms.graphql.compiled.plan import (
    Children,
    Column,
    Computed,
    Connection,
    Const,
    Edges,
    Joined,
    Lookup,
    ObjectNode,
    PageInfo,
    PostCount,
    Typename,
)
from cms.graphql.compiled.serialize import global_id, output_converter, python_converter
from cms.graphql.compiled.sql import Unplannable

__all__ = ["PlanCache", "plan_operation"]

_PAGE_INFO_FIELDS = ("hasNextPage", "hasPreviousPage", "startCursor", "endCursor")
# The one to-one relation the post statements join into their rows (plan.AUTHOR).
_JOINED_RELATION = "author"


class _Walk:
    """What collecting fields needs, taken from graphql-core's executor for the request."""

    def __init__(self, executor: Any) -> None:
        self.schema: GraphQLSchema = executor.schema
        self.fragments = executor.fragments
        self.variable_values = executor.variable_values
        self.operation = executor.operation
        self.hide_suggestions: bool = executor.hide_suggestions

    def fields(self, collected: CollectedFields) -> Iterator[tuple[str, str, FieldDetailsList]]:
        if collected.new_defer_usages or collected.forbidden_directive_instances:
            raise Unplannable("@defer or @stream")
        for key, details in collected.grouped_field_set.items():
            for detail in details:
                if detail.defer_usage is not None or detail.fragment_variable_values:
                    raise Unplannable("incremental delivery or fragment variables")
                for directive in detail.node.directives or ():
                    if directive.name.value not in ("skip", "include"):
                        raise Unplannable(f"directive @{directive.name.value}")
            yield key, details[0].node.name.value, details

    def type(self, type_name: str) -> GraphQLObjectType:
        return cast(GraphQLObjectType, self.schema.get_type(type_name))

    def sub(self, type_name: str, details: FieldDetailsList) -> CollectedFields:
        return collect_subfields(
            self.schema,
            self.fragments,
            self.variable_values,
            self.operation,
            self.type(type_name),
            details,
            self.hide_suggestions,
        )

    def object(self, type_name: str, details: FieldDetailsList) -> ObjectNode:
        node = ObjectNode(type_name)
        for key, name, sub in self.fields(self.sub(type_name, details)):
            self.field(node, key, name, sub)
        return node

    def field(self, node: ObjectNode, key: str, name: str, details: FieldDetailsList) -> None:
        if name == "__typename":
            node.fields.append(Typename(key, node.type_name))
            return
        object_type = self.type(node.type_name)
        definition = object_type.fields.get(name)  # None for __schema and __type
        how = None if definition is None else declared.declaration_of(object_type, name)
        if definition is None or how is None:
            raise Unplannable(f"{node.type_name}.{name} is answered by the standard executor")
        target = get_named_type(definition.type).name
        if isinstance(how, declared.NodeId):
            node.fields.append(Column(key, "id", global_id(node.type_name)))
        elif isinstance(how, declared.Column):
            self.column(node, key, object_type, how)
        elif isinstance(how, declared.Derived):
            self.derived(node, key, object_type, how)
        elif isinstance(how, declared.ToOne):
            if how.relation != _JOINED_RELATION:
                raise Unplannable(f"{node.type_name}.{name} is not joined by the statements")
            node.fields.append(Joined(key, self.object(target, details)))
        elif isinstance(how, declared.ToMany):
            child = self.object(target, details)
            relation = node.relation(how.name)
            relation.columns |= child.columns
            node.fields.append(Children(key, relation, child))
        elif isinstance(how, declared.PostCount):
            node.fields.append(PostCount(key))
        elif isinstance(how, declared.ConnectionOf):
            self.connection(node, key, definition, details, how)
        else:
            self.lookup(node, key, definition, details, how)

    def column(
        self, node: ObjectNode, key: str, object_type: GraphQLObjectType, how: declared.Column
    ) -> None:
        model = _model(object_type)
        node.columns.add(how.name)
        node.fields.append(Column(key, how.name, output_converter(model, how.name)))

    def derived(
        self, node: ObjectNode, key: str, object_type: GraphQLObjectType, how: declared.Derived
    ) -> None:
        model = _model(object_type)
        node.columns.update(how.columns)
        relation = None
        if how.relation is not None:
            relation = node.relation(how.relation)
            relation.columns.update(how.relation_columns)
        converters = tuple(python_converter(model, column) for column in how.columns)
        node.fields.append(Computed(key, how, converters, relation))

    def lookup(
        self,
        node: ObjectNode,
        key: str,
        definition: GraphQLField,
        details: FieldDetailsList,
        how: declared.Lookup,
    ) -> None:
        field_node = details[0].node
        given = {argument.name.value for argument in field_node.arguments or ()}
        if given & set(how.standard_only):
            raise Unplannable(f"{field_node.name.value} with {', '.join(how.standard_only)}")
        child = self.object(get_named_type(definition.type).name, details)
        node.fields.append(Lookup(key, how.kind, definition, field_node, child))

    def connection(
        self,
        node: ObjectNode,
        key: str,
        definition: GraphQLField,
        details: FieldDetailsList,
        how: declared.ConnectionOf,
    ) -> None:
        connection_type = cast(GraphQLObjectType, get_named_type(definition.type))
        connection = Connection(key, how.kind, how.parent, definition, details[0].node)
        for part_key, name, sub in self.fields(self.sub(connection_type.name, details)):
            if name == "__typename":
                connection.parts.append((part_key, Const(connection_type.name)))
            elif name == "totalCount":
                connection.parts.append((part_key, "totalCount"))
            elif name == "edges":
                edge_type = get_named_type(connection_type.fields[name].type)
                edges = self.edges(part_key, cast(GraphQLObjectType, edge_type), sub)
                connection.parts.append((part_key, edges))
            elif name == "pageInfo":
                connection.parts.append((part_key, self.page_info(part_key, sub)))
            else:
                raise Unplannable(f"{connection_type.name}.{name} has no plan")
        node.fields.append(connection)

    def edges(self, key: str, edge_type: GraphQLObjectType, details: FieldDetailsList) -> Edges:
        edges = Edges(key)
        for part_key, name, sub in self.fields(self.sub(edge_type.name, details)):
            if name == "__typename":
                edges.parts.append((part_key, Const(edge_type.name)))
            elif name == "cursor":
                edges.parts.append((part_key, "cursor"))
            elif name == "node":
                node_type = get_named_type(edge_type.fields[name].type).name
                edges.parts.append((part_key, self.object(node_type, sub)))
            else:
                raise Unplannable(f"{edge_type.name}.{name} has no plan")
        return edges

    def page_info(self, key: str, details: FieldDetailsList) -> PageInfo:
        info = PageInfo(key)
        for part_key, name, _ in self.fields(self.sub("PageInfo", details)):
            if name == "__typename":
                info.parts.append((part_key, Const("PageInfo")))
            elif name in _PAGE_INFO_FIELDS:
                info.parts.append((part_key, name))
            else:
                raise Unplannable(f"PageInfo.{name} has no plan")
        return info


def _model(object_type: GraphQLObjectType) -> type[Model]:
    model = declared.model_of(object_type)
    if model is None:
        raise Unplannable(f"{object_type.name} is stored in no model")
    return model


def plan_operation(executor: Any) -> ObjectNode:
    """The plan of the executor's operation; :class:`Unplannable` if it is not covered."""
    operation = executor.operation
    if operation.operation != OperationType.QUERY or operation.directives:
        raise Unplannable("only queries without operation directives")
    walk = _Walk(executor)
    root_type = executor.schema.query_type
    root = ObjectNode(root_type.name)
    collected = collect_fields(
        walk.schema,
        walk.fragments,
        walk.variable_values,
        root_type,
        operation,
        walk.hide_suggestions,
    )
    for key, name, details in walk.fields(collected):
        walk.field(root, key, name, details)
    return root


class PlanCache:
    """Plans (or refusals, as ``None``) by document, operation and @skip/@include values."""

    def __init__(self, size: int = 256) -> None:
        self.size = size
        self._plans: OrderedDict[Hashable, ObjectNode | None] = OrderedDict()
        self._switches: dict[str, tuple[str, ...]] = {}
        self._lock = threading.Lock()

    def get(self, executor: Any) -> ObjectNode | None:
        try:
            key = self._key(executor)
        except Unplannable:
            return None
        if key is not None:
            with self._lock:
                if key in self._plans:
                    self._plans.move_to_end(key)
                    return self._plans[key]
        try:
            plan: ObjectNode | None = plan_operation(executor)
        except Unplannable:
            plan = None
        if key is not None:
            with self._lock:
                self._plans[key] = plan
                while len(self._plans) > self.size:
                    self._plans.popitem(last=False)
        return plan

    def clear(self) -> None:
        with self._lock:
            self._plans.clear()
            self._switches.clear()

    def _key(self, executor: Any) -> Hashable | None:
        operation = executor.operation
        if operation.loc is None:
            return None  # parsed without locations: no text to key on, plan every time
        body: str = operation.loc.source.body
        switches = self._switches.get(body)
        if switches is None:
            switches = _switch_variables(executor)
            with self._lock:
                if len(self._switches) >= self.size * 4:
                    self._switches.clear()
                self._switches[body] = switches
        coerced = executor.variable_values.coerced
        name = operation.name.value if operation.name else None
        return (id(executor.schema), body, name, tuple(coerced.get(v) for v in switches))


def _switch_variables(executor: Any) -> tuple[str, ...]:
    """Names of the variables that @skip/@include read anywhere in the document."""
    found: set[str] = set()
    selection_sets = [executor.operation.selection_set]
    selection_sets += [f.selection_set for f in executor.fragment_definitions.values()]
    while selection_sets:
        selection_set: SelectionSetNode | None = selection_sets.pop()
        for selection in selection_set.selections if selection_set else ():
            for directive in selection.directives or ():
                if directive.name.value in ("skip", "include"):
                    found.update(
                        argument.value.name.value
                        for argument in directive.arguments or ()
                        if isinstance(argument.value, VariableNode)
                    )
            if isinstance(selection, FieldNode | InlineFragmentNode):
                selection_sets.append(selection.selection_set)
            elif not isinstance(selection, FragmentSpreadNode):
                raise Unplannable("unknown selection")
    return tuple(sorted(found))
