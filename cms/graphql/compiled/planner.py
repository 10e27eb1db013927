"""From a validated operation to a plan, or to a refusal: the compiled path's coverage rules.

The planner takes only what it fully understands, and refuses (``None``: the standard
executor answers the whole operation) anything else:

- queries only, without operation directives; no ``@defer``/``@stream``, no directive on a
  field but ``@skip``/``@include``;
- the fields that declare how they load (``cms.graphql.declarations``, read from the schema):
  the planner names none of them, so a field declared on its type is compiled; connections
  with ``edges``, ``node``, ``cursor``, ``pageInfo`` and ``totalCount``; ``__typename``
  anywhere.

The planner walks the operation's :class:`~cms.graphql.analysis.Analysis`: its fields as
graphql-core's own ``collect_fields``/``collect_subfields`` collected them, with fragments,
inline fragments, aliases, repeated keys and ``@skip``/``@include`` resolved exactly as the
standard executor resolves them, response-key order included. A plan is derived once per
analysis, so it is cached as the analysis is: under the document, the operation name and the
values of the ``@skip``/``@include`` variables; other variables (page sizes, slugs, cursors)
are read per request.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import cast

from graphql import (
    GraphQLField,
    GraphQLObjectType,
    GraphQLSchema,
    OperationType,
    get_named_type,
)
from tortoise.models import Model

from cms.graphql import declarations as declared
from cms.graphql.analysis import Analysis, Selection, Selections
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

__all__ = ["plan_of", "plan_operation"]

_PAGE_INFO_FIELDS = ("hasNextPage", "hasPreviousPage", "startCursor", "endCursor")
# The one to-one relation the post statements join into their rows (plan.AUTHOR).
_JOINED_RELATION = "author"


class _Walk:
    """Turns the operation's collected fields (its :class:`Analysis`) into plan nodes."""

    def __init__(self, schema: GraphQLSchema) -> None:
        self.schema = schema

    @staticmethod
    def fields(selections: Selections) -> Iterator[tuple[str, str, Selection]]:
        for selection in selections:
            for detail in selection.details:
                if detail.defer_usage is not None or detail.fragment_variable_values:
                    raise Unplannable("incremental delivery or fragment variables")
                for directive in detail.node.directives or ():
                    if directive.name.value not in ("skip", "include"):
                        raise Unplannable(f"directive @{directive.name.value}")
            yield selection.key, selection.name, selection

    def type(self, type_name: str) -> GraphQLObjectType:
        return cast(GraphQLObjectType, self.schema.get_type(type_name))

    def object(self, type_name: str, selection: Selection) -> ObjectNode:
        node = ObjectNode(type_name)
        for key, name, below in self.fields(selection.below):
            self.field(node, key, name, below)
        return node

    def field(self, node: ObjectNode, key: str, name: str, selection: Selection) -> None:
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
            node.fields.append(Joined(key, self.object(target, selection)))
        elif isinstance(how, declared.ToMany):
            child = self.object(target, selection)
            relation = node.relation(how.name)
            relation.columns |= child.columns
            node.fields.append(Children(key, relation, child))
        elif isinstance(how, declared.PostCount):
            node.fields.append(PostCount(key))
        elif isinstance(how, declared.ConnectionOf):
            self.connection(node, key, definition, selection, how)
        else:
            self.lookup(node, key, definition, selection, how)

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
        selection: Selection,
        how: declared.Lookup,
    ) -> None:
        field_node = selection.node
        given = {argument.name.value for argument in field_node.arguments or ()}
        if given & set(how.standard_only):
            raise Unplannable(f"{field_node.name.value} with {', '.join(how.standard_only)}")
        child = self.object(get_named_type(definition.type).name, selection)
        node.fields.append(Lookup(key, how.kind, definition, field_node, child))

    def connection(
        self,
        node: ObjectNode,
        key: str,
        definition: GraphQLField,
        selection: Selection,
        how: declared.ConnectionOf,
    ) -> None:
        connection_type = cast(GraphQLObjectType, get_named_type(definition.type))
        connection = Connection(key, how.kind, how.parent, definition, selection.node)
        for part_key, name, sub in self.fields(selection.below):
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

    def edges(self, key: str, edge_type: GraphQLObjectType, selection: Selection) -> Edges:
        edges = Edges(key)
        for part_key, name, sub in self.fields(selection.below):
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

    def page_info(self, key: str, selection: Selection) -> PageInfo:
        info = PageInfo(key)
        for part_key, name, _ in self.fields(selection.below):
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


def plan_operation(analysis: Analysis) -> ObjectNode:
    """The plan of the analysed operation; :class:`Unplannable` if it is not covered."""
    operation = analysis.operation
    if operation.operation != OperationType.QUERY or operation.directives:
        raise Unplannable("only queries without operation directives")
    walk = _Walk(analysis.schema)
    root_type = analysis.schema.query_type
    if root_type is None:
        raise Unplannable("a schema without queries")
    root = ObjectNode(root_type.name)
    for key, name, selection in walk.fields(analysis.root):
        walk.field(root, key, name, selection)
    return root


def plan_of(analysis: Analysis) -> ObjectNode | None:
    """The operation's plan, or None when the standard executor must answer it.

    Made once per analysis, and so once per document, operation and ``@skip``/``@include``
    values: the analysis cache (``cms.graphql.analysis``) is the plan cache too.
    """
    return analysis.derived(_plan_or_refusal)


def _plan_or_refusal(analysis: Analysis) -> ObjectNode | None:
    try:
        return plan_operation(analysis)
    except Unplannable:
        return None
