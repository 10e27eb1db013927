"""From a validated operation to a plan, or to a refusal: the compiled path's coverage rules.

The planner takes only what it fully understands, and refuses (``None``: the standard
executor answers the whole operation) anything else:

- queries only, without operation directives; no ``@defer``/``@stream``, no directive on a
  field but ``@skip``/``@include``;
- the root fields ``posts``, ``post``, ``tag``, ``tags``, ``author``, ``authors``;
- ``Post``, ``Section``, ``Tag`` and ``Author`` scalars, ``Post.author``/``tags``/``sections``,
  ``Tag.posts``/``postCount``, ``Author.posts``, the pure ``readingTimeMinutes``,
  ``readingTime``, and the stored ``html`` and ``plainText``; connections with ``edges``, ``node``,
  ``cursor``, ``pageInfo`` and ``totalCount``; ``__typename`` anywhere.

Fields are collected with graphql-core's own ``collect_fields``/``collect_subfields``, which
resolve fragments, inline fragments, aliases, repeated keys and ``@skip``/``@include`` exactly
as the standard executor does, response-key order included. Since ``@skip``/``@include`` may
read variables, a plan is cached under the document, the operation name and the values of
those variables only; other variables (page sizes, slugs, cursors) are read per request.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator
from typing import Any, cast

from graphql import (
    FieldNode,
    FragmentSpreadNode,
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

from cms.graphql.compiled.plan import (
    Children,
    Column,
    Connection,
    ConnectionKind,
    Const,
    Derived,
    Edges,
    Joined,
    Lookup,
    LookupKind,
    ObjectNode,
    PageInfo,
    ParentKind,
    PostCount,
    ReadingTime,
    Typename,
)
from cms.graphql.compiled.serialize import global_id, output_converter
from cms.graphql.compiled.sql import Unplannable
from cms.models import Author, Post, Section, Tag

__all__ = ["PlanCache", "plan_operation"]

# GraphQL field -> column, per type. Everything else a type offers needs a handler below.
_COLUMNS: dict[str, tuple[type[Any], dict[str, str]]] = {
    "Post": (
        Post,
        {
            "slug": "slug",
            "title": "title",
            "excerpt": "excerpt",
            "status": "status",
            "publishedAt": "published_at",
            "createdAt": "created_at",
            "updatedAt": "updated_at",
            "version": "version",
            "deletedAt": "deleted_at",
        },
    ),
    "Section": (
        Section,
        # html and plainText were rendered when the section was written: columns like the rest.
        {
            "position": "position",
            "heading": "heading",
            "anchor": "anchor",
            "body": "body",
            "html": "html",
            "plainText": "plain_text",
        },
    ),
    "Tag": (Tag, {"name": "name", "slug": "slug", "description": "description"}),
    "Author": (Author, {"name": "name", "slug": "slug", "bio": "bio"}),
}
_ROOT_CONNECTIONS: dict[str, ConnectionKind] = {
    "posts": "posts",
    "tags": "tags",
    "authors": "authors",
}
_LOOKUPS: dict[str, tuple[LookupKind, str]] = {
    "post": ("post", "Post"),
    "tag": ("tag", "Tag"),
    "author": ("author", "Author"),
}
_PARENTS: dict[str, ParentKind] = {"Tag": "tag", "Author": "author"}
_NODE_TYPES = {"posts": "Post", "tags": "Tag", "authors": "Author"}
_PAGE_INFO_FIELDS = ("hasNextPage", "hasPreviousPage", "startCursor", "endCursor")


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

    def sub(self, type_name: str, details: FieldDetailsList) -> CollectedFields:
        return collect_subfields(
            self.schema,
            self.fragments,
            self.variable_values,
            self.operation,
            cast(GraphQLObjectType, self.schema.get_type(type_name)),
            details,
            self.hide_suggestions,
        )

    def object(self, type_name: str, details: FieldDetailsList) -> ObjectNode:
        node = ObjectNode(type_name)
        for key, name, sub in self.fields(self.sub(type_name, details)):
            self.field(node, key, name, sub)
        return node

    def field(self, node: ObjectNode, key: str, name: str, details: FieldDetailsList) -> None:
        type_name = node.type_name
        if name == "__typename":
            node.fields.append(Typename(key, type_name))
        elif name == "id" and type_name in _COLUMNS:
            node.fields.append(Derived(key, "id", global_id(type_name)))
        elif type_name in _COLUMNS and name in _COLUMNS[type_name][1]:
            model, columns = _COLUMNS[type_name]
            column = columns[name]
            node.columns.add(column)
            node.fields.append(Column(key, column, output_converter(model, column)))
        else:
            handler = _HANDLERS.get((type_name, name))
            if handler is None:
                raise Unplannable(f"{type_name}.{name} has no plan")
            handler(self, node, key, details)

    def definition(self, type_name: str, name: str) -> Any:
        return cast(GraphQLObjectType, self.schema.get_type(type_name)).fields[name]

    def connection(
        self,
        node: ObjectNode,
        key: str,
        details: FieldDetailsList,
        kind: ConnectionKind,
        parent: ParentKind | None,
    ) -> None:
        definition = self.definition(node.type_name, details[0].node.name.value)
        connection_type = get_named_type(definition.type).name
        connection = Connection(key, kind, parent, definition, details[0].node)
        for part_key, name, sub in self.fields(self.sub(connection_type, details)):
            if name == "__typename":
                connection.parts.append((part_key, Const(connection_type)))
            elif name == "totalCount":
                connection.parts.append((part_key, "totalCount"))
            elif name == "edges":
                edges = self.edges(part_key, connection_type, sub, kind)
                connection.parts.append((part_key, edges))
            elif name == "pageInfo":
                connection.parts.append((part_key, self.page_info(part_key, sub)))
            else:
                raise Unplannable(f"{connection_type}.{name} has no plan")
        node.fields.append(connection)

    def edges(self, key: str, connection_type: str, details: FieldDetailsList, kind: str) -> Edges:
        edge_type = connection_type.removesuffix("Connection") + "Edge"
        edges = Edges(key)
        for key, name, sub in self.fields(self.sub(edge_type, details)):
            if name == "__typename":
                edges.parts.append((key, Const(edge_type)))
            elif name == "cursor":
                edges.parts.append((key, "cursor"))
            elif name == "node":
                edges.parts.append((key, self.object(_NODE_TYPES[kind], sub)))
            else:
                raise Unplannable(f"{edge_type}.{name} has no plan")
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


Handler = Callable[[_Walk, ObjectNode, str, FieldDetailsList], None]


def _author(walk: _Walk, node: ObjectNode, key: str, details: FieldDetailsList) -> None:
    node.fields.append(Joined(key, walk.object("Author", details)))


def _children(name: str, type_name: str) -> Handler:
    def handle(walk: _Walk, node: ObjectNode, key: str, details: FieldDetailsList) -> None:
        child = walk.object(type_name, details)
        relation = node.relation(name)  # type: ignore[arg-type]
        relation.columns |= child.columns
        node.fields.append(Children(key, relation, child))

    return handle


def _reading_time(walk: _Walk, node: ObjectNode, key: str, details: FieldDetailsList) -> None:
    sections = node.relation("sections")
    sections.columns |= {"heading", "body"}
    node.columns.add("title")
    node.fields.append(ReadingTime(key, sections))


def _post_count(walk: _Walk, node: ObjectNode, key: str, details: FieldDetailsList) -> None:
    node.fields.append(PostCount(key))


def _posts(walk: _Walk, node: ObjectNode, key: str, details: FieldDetailsList) -> None:
    walk.connection(node, key, details, "posts", _PARENTS.get(node.type_name))


def _root_connection(walk: _Walk, node: ObjectNode, key: str, details: FieldDetailsList) -> None:
    walk.connection(node, key, details, _ROOT_CONNECTIONS[details[0].node.name.value], None)


def _lookup(walk: _Walk, node: ObjectNode, key: str, details: FieldDetailsList) -> None:
    if any(argument.name.value == "asOf" for argument in details[0].node.arguments or ()):
        # A past state is rebuilt from revisions by its resolver (cms.graphql.posts.time_travel).
        raise Unplannable("post(asOf:)")
    kind, type_name = _LOOKUPS[details[0].node.name.value]
    definition = walk.definition("Query", details[0].node.name.value)
    child = walk.object(type_name, details)
    node.fields.append(Lookup(key, kind, definition, details[0].node, child))


_HANDLERS: dict[tuple[str, str], Handler] = {
    ("Query", "posts"): _root_connection,
    ("Query", "tags"): _root_connection,
    ("Query", "authors"): _root_connection,
    ("Query", "post"): _lookup,
    ("Query", "tag"): _lookup,
    ("Query", "author"): _lookup,
    ("Post", "author"): _author,
    ("Post", "tags"): _children("tags", "Tag"),
    ("Post", "sections"): _children("sections", "Section"),
    ("Post", "readingTimeMinutes"): _reading_time,
    # Deprecated, and the same value; DeprecationTracker reports its use on both paths.
    ("Post", "readingTime"): _reading_time,
    ("Tag", "posts"): _posts,
    ("Tag", "postCount"): _post_count,
    ("Author", "posts"): _posts,
}


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
