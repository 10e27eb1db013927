"""Every field of the content types is declared (and so compiled) or answered by the standard
executor only for a stated reason, and the generated differential documents reach every
declared field: a new field cannot silently drop off the compiled path, nor off its test."""

from __future__ import annotations

import strawberry
from graphql import GraphQLObjectType, build_schema

from cms.graphql import declarations
from cms.graphql.node import Node
from cms.graphql.schema import schema
from cms.models import Tag as TagModel
from tests.graphql.compiled.test_generated import READ_SDL

CONTENT_TYPES = ("Post", "Section", "Tag", "Author")

# Fields left to the standard executor, each with why.
STANDARD_ONLY = {
    ("Post", "revisions"): "for editors only (permission errors), one statement per post",
    ("Post", "previewTokens"): "for editors only (permission errors), one statement per post",
}


def _object_type(name: str) -> GraphQLObjectType:
    found = schema._schema.get_type(name)
    assert isinstance(found, GraphQLObjectType), name
    return found


def _declared(type_name: str) -> set[str]:
    object_type = _object_type(type_name)
    return {
        name
        for name in object_type.fields
        if declarations.declaration_of(object_type, name) is not None
    }


def test_every_content_field_is_declared_or_left_to_the_standard_executor_for_a_reason() -> None:
    for type_name in CONTENT_TYPES:
        for name in _object_type(type_name).fields:
            declared = name in _declared(type_name)
            left = (type_name, name) in STANDARD_ONLY
            assert declared != left, f"{type_name}.{name}: declare it, or say why it is left"


def test_the_stored_fields_are_columns_of_their_own_name_and_ids_are_global() -> None:
    post = _object_type("Post")
    assert declarations.declaration_of(post, "publishedAt") == declarations.Column("published_at")
    assert declarations.declaration_of(post, "id") == declarations.NodeId()
    section = _object_type("Section")
    assert declarations.declaration_of(section, "plainText") == declarations.Column("plain_text")


def test_the_root_reads_are_declared() -> None:
    query = _object_type("Query")
    for name in ("posts", "post", "tag", "tags", "author", "authors"):
        assert declarations.declaration_of(query, name) is not None, name
    assert declarations.declaration_of(query, "node") is None


def test_the_generated_documents_reach_every_declared_field() -> None:
    generated = build_schema(READ_SDL)
    for type_name in (*CONTENT_TYPES, "Query"):
        read_type = generated.get_type(type_name)
        assert isinstance(read_type, GraphQLObjectType), type_name
        missing = _declared(type_name) - set(read_type.fields)
        assert not missing, f"{type_name}: add {sorted(missing)} to READ_SDL"


@declarations.stored_in(TagModel)
@strawberry.type
class Label(Node):
    """A toy stored type: its data field is declared by its one line."""

    name: str

    @strawberry.field
    def shout(self) -> str:
        return self.name.upper()


@strawberry.type
class LabelQuery:
    label: Label | None = None


def test_a_new_data_field_of_a_stored_type_is_a_column_without_more_than_its_line() -> None:
    label = strawberry.Schema(query=LabelQuery)._schema.get_type("Label")
    assert isinstance(label, GraphQLObjectType)
    assert declarations.model_of(label) is TagModel
    assert declarations.declaration_of(label, "name") == declarations.Column("name")
    assert declarations.declaration_of(label, "id") == declarations.NodeId()
    assert declarations.declaration_of(label, "shout") is None
