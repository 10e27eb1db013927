"""How each object field reads the database, declared once, on the field itself.

A field says how it loads through its Strawberry ``metadata`` (``strawberry.field(...,
metadata=loads(...))``); the standard resolvers are written beside that declaration, and the
compiled planner (``cms.graphql.compiled.planner``) reads it from the schema, so a declared field
is compiled without the planner naming it. The kinds:

- :class:`Column`: a stored column of the type's model (:func:`stored_in` names the model).
  A data field without a resolver of a stored type needs no declaration: it is the column of
  its own name, as :func:`~cms.graphql.rows.from_row` reads it. ``id`` of such a type is its
  global id (:class:`NodeId`).
- :class:`Derived`: a pure function of columns and, optionally, of the rows of one of the
  type's to-many relations (``Post.readingTimeMinutes``).
- :class:`ToOne`, :class:`ToMany`: a related object, or a list of them.
- :class:`PostCount`: how many visible posts hang off the object.
- :class:`ConnectionOf`: a Relay connection over posts (at the root, or of a tag or an author),
  tags or authors; its filter and order are the field's own arguments.
- :class:`Lookup`: a root field answering one object or null.

A field with no declaration is answered by the standard executor only.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from graphql import GraphQLInputObjectType, GraphQLObjectType, get_named_type
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.base import StrawberryObjectDefinition
from strawberry.types.field import StrawberryField
from tortoise.models import Model

from cms.services.post_pages import ParentKind

__all__ = [
    "Column",
    "ConnectionKind",
    "ConnectionOf",
    "Declaration",
    "Derived",
    "Lookup",
    "LookupKind",
    "NodeId",
    "ParentKind",
    "PostCount",
    "RelationName",
    "ToMany",
    "ToOne",
    "declaration_of",
    "input_object",
    "loads",
    "model_of",
    "stored_in",
]

ConnectionKind = Literal["posts", "tags", "authors"]
LookupKind = Literal["post", "tag", "author"]
RelationName = Literal["sections", "tags"]

_KEY = "cms.loads"


@dataclass(frozen=True)
class Column:
    """The stored column ``name`` of the type's model."""

    name: str


@dataclass(frozen=True)
class NodeId:
    """The global id of the row (``Node.id``): its type name and primary key."""


@dataclass(frozen=True)
class Derived:
    """``compute(*columns, rows)``: a pure function of the row's ``columns`` (as the model
    holds them) and, when ``relation`` names a to-many relation of the type, of its rows: each
    a mapping holding at least ``relation_columns``, as the driver reads them on the compiled
    path (text and integers read alike everywhere; convert anything else in ``compute``)."""

    compute: Callable[..., Any]
    columns: tuple[str, ...]
    relation: RelationName | None = None
    relation_columns: tuple[str, ...] = ()


@dataclass(frozen=True)
class ToOne:
    """The object the model's foreign key ``relation`` points to (``Post.author``)."""

    relation: str


@dataclass(frozen=True)
class ToMany:
    """The rows of the relation ``name`` hanging off the object (``Post.sections``)."""

    name: RelationName


@dataclass(frozen=True)
class PostCount:
    """How many visible posts carry the object (``Tag.postCount``)."""


@dataclass(frozen=True)
class ConnectionOf:
    """A page of ``kind``: every visible one (``parent`` None), or those of the parent."""

    kind: ConnectionKind
    parent: ParentKind | None = None


@dataclass(frozen=True)
class Lookup:
    """One ``kind`` or null; a field given any of ``standard_only`` (GraphQL argument names)
    is answered by the standard executor."""

    kind: LookupKind
    standard_only: tuple[str, ...] = ()


Declaration = Column | NodeId | Derived | ToOne | ToMany | PostCount | ConnectionOf | Lookup


def loads(declaration: Declaration) -> dict[str, Declaration]:
    """The ``metadata`` of a field that loads as ``declaration``."""
    return {_KEY: declaration}


_MODELS: dict[type, type[Model]] = {}
T = TypeVar("T", bound=type)


def stored_in(model: type[Model]) -> Callable[[T], T]:
    """Class decorator: the type's rows are rows of ``model`` (its columns, its converters)."""

    def register(cls: T) -> T:
        _MODELS[cls] = model
        return cls

    return register


def model_of(object_type: GraphQLObjectType) -> type[Model] | None:
    """The model whose rows the type is built from, if it was declared :func:`stored_in` one."""
    definition = _definition(object_type.extensions)
    if not isinstance(definition, StrawberryObjectDefinition):
        return None
    return _MODELS.get(definition.origin)


def declaration_of(object_type: GraphQLObjectType, name: str) -> Declaration | None:
    """How the field ``name`` of ``object_type`` loads; None: by the standard executor only."""
    field = _definition(object_type.fields[name].extensions)
    if not isinstance(field, StrawberryField):
        return None
    declared = field.metadata.get(_KEY)
    if declared is not None:
        return declared  # type: ignore[no-any-return]
    if model_of(object_type) is None or field.base_resolver is not None:
        return None
    # A stored type's data field is the column of its own name; from_row reads it so.
    return NodeId() if field.python_name == "id" else Column(field.python_name)


def input_object(input_type: GraphQLInputObjectType, value: Mapping[str, Any]) -> object:
    """The Strawberry input (``PostFilter``...) that a coerced argument value of ``input_type``
    stands for, as its resolver receives it: the type's own class, fields by Python name."""
    definition = _definition(input_type.extensions)
    if not isinstance(definition, StrawberryObjectDefinition):
        raise TypeError(f"{input_type.name} is not a Strawberry input")
    names: dict[str, str] = {}
    for name, field in input_type.fields.items():
        if isinstance(get_named_type(field.type), GraphQLInputObjectType):
            raise TypeError(f"{input_type.name}.{name}: nested inputs are not built here")
        python = _definition(field.extensions)
        assert isinstance(python, StrawberryField)  # noqa: S101 (Strawberry links every field)
        names[name] = python.python_name
    return definition.origin(**{names[name]: given for name, given in value.items()})


def _definition(extensions: Mapping[str, Any] | None) -> object:
    # The Strawberry definition behind a graphql-core type or field: the link Strawberry puts
    # in its extensions for exactly this.
    return (extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
