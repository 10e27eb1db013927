"""Generated queries over the read API: the compiled path must answer each one byte for byte
as the standard executor does.

hypothesis-graphql generates documents from ``READ_SDL``: the published contract
(``schema/schema.graphql``) cut down to the fields the compiled path plans, with argument
domains narrowed to values that mean something here (page sizes around the data's size, slugs
that exist or not, aware moments), declared as custom scalars so that each generated literal
is valid against the real schema too. Arguments that mostly generate errors (``last`` beside
``first``, a null ``orderBy``, ``post`` without a slug) are left to the hand-written cases.

A test checks that the cut-down schema is a subset of the published one, so that the generator
cannot drift from the contract, and ``test_declarations`` that it holds every field declared for
the compiled path. Random documents may miss a field; ``every_field_document`` selects each
field of the cut-down schema at least once, and is answered like the others.
"""

from __future__ import annotations

from pathlib import Path

import hypothesis.strategies as st
from graphql import (
    FieldNode,
    GraphQLNonNull,
    GraphQLObjectType,
    IntValueNode,
    StringValueNode,
    TypeInfo,
    TypeInfoVisitor,
    Visitor,
    build_schema,
    get_named_type,
    parse,
    visit,
)
from hypothesis import HealthCheck, given, settings
from hypothesis_graphql import queries

from tests.graphql.compiled.conftest import Differ, Library

PUBLISHED = Path(__file__).resolve().parents[3] / "schema" / "schema.graphql"

READ_SDL = """
scalar DateTime
scalar PageSize
scalar Slug
scalar Moment

interface Node { id: ID! }

enum PostOrder { PUBLISHED_AT_DESC PUBLISHED_AT_ASC TITLE_ASC UPDATED_AT_DESC }
enum PostStatus { DRAFT PUBLISHED SCHEDULED ARCHIVED }

input PostFilter {
  tag: Slug
  tagsAny: [Slug!]
  author: Slug
  publishedAfter: Moment
  publishedBefore: Moment
}

type PageInfo {
  hasNextPage: Boolean!
  hasPreviousPage: Boolean!
  startCursor: String
  endCursor: String
}

type Section implements Node {
  id: ID!
  position: Int!
  heading: String
  anchor: String!
  body: String!
  html: String!
  plainText: String!
}

type Post implements Node {
  id: ID!
  slug: String!
  title: String!
  excerpt: String!
  status: PostStatus!
  publishedAt: DateTime
  createdAt: DateTime!
  updatedAt: DateTime!
  version: Int!
  deletedAt: DateTime
  author: Author!
  tags: [Tag!]!
  sections: [Section!]!
  readingTimeMinutes: Int!
  readingTime: Int
}

type PostEdge { cursor: String! node: Post! }
type PostConnection { edges: [PostEdge!]! pageInfo: PageInfo! totalCount: Int! }

type Tag implements Node {
  id: ID!
  name: String!
  slug: String!
  description: String!
  posts(first: PageSize, filter: PostFilter, orderBy: PostOrder!): PostConnection!
  postCount: Int!
}

type TagEdge { cursor: String! node: Tag! }
type TagConnection { edges: [TagEdge!]! pageInfo: PageInfo! totalCount: Int! }

type Author implements Node {
  id: ID!
  name: String!
  slug: String!
  bio: String!
  posts(first: PageSize, filter: PostFilter, orderBy: PostOrder!): PostConnection!
}

type AuthorEdge { cursor: String! node: Author! }
type AuthorConnection { edges: [AuthorEdge!]! pageInfo: PageInfo! totalCount: Int! }

type Query {
  posts(first: PageSize, filter: PostFilter, orderBy: PostOrder!): PostConnection!
  post(slug: Slug!): Post
  tag(slug: Slug!): Tag
  tags(first: PageSize): TagConnection!
  author(slug: Slug!): Author
  authors(first: PageSize): AuthorConnection!
}
"""

SLUGS = ["databases", "apple", "zebra", "eclair", "empty", "ada", "bob", "emile", "zed"]
SLUGS += ["post-00", "post-03", "post-07", "draft", "trashed", "scheduled-live", "missing"]
MOMENTS = ["2020-01-01T00:00:00+00:00", "2026-06-01T12:30:00+02:00", "2099-01-01T00:00:00Z"]

CUSTOM_SCALARS = {
    "PageSize": st.integers(min_value=0, max_value=5).map(lambda n: IntValueNode(value=str(n))),
    "Slug": st.sampled_from(SLUGS).map(lambda s: StringValueNode(value=s)),
    "Moment": st.sampled_from(MOMENTS).map(lambda s: StringValueNode(value=s)),
}


# Arguments the cut-down schema requires, per argument or field name, and small pages (within
# the node limit).
ARGUMENTS = {
    "first": "3",
    "orderBy": "TITLE_ASC",
    "post": '"post-03"',
    "tag": '"databases"',
    "author": '"ada"',
}


def every_field_document(sdl: str) -> str:
    """One query selecting every field of ``sdl`` at least once: each root field with all its
    fields, nested, except those leading back to a type already on the path."""
    read = build_schema(sdl)

    def selection(object_type: GraphQLObjectType, path: frozenset[str]) -> str:
        parts = []
        for name, field in object_type.fields.items():
            named = get_named_type(field.type)
            arguments = ", ".join(
                f"{arg}: {ARGUMENTS.get(arg, ARGUMENTS.get(name))}"
                for arg, definition in field.args.items()
                if isinstance(definition.type, GraphQLNonNull) or arg == "first"
            )
            call = f"{name}({arguments})" if arguments else name
            if not isinstance(named, GraphQLObjectType):
                parts.append(call)
            elif named.name not in path:
                parts.append(f"{call} {{ {selection(named, path | {named.name})} }}")
        return " ".join(parts)

    query = read.query_type
    assert query is not None
    return f"{{ {selection(query, frozenset({query.name}))} }}"


def test_every_field_of_the_cut_down_schema_is_selected_by_one_document() -> None:
    read = build_schema(READ_SDL)
    info = TypeInfo(read)
    selected: set[tuple[str, str]] = set()

    class Collect(Visitor):
        def enter_field(self, node: FieldNode, *_: object) -> None:
            parent = info.get_parent_type()
            assert parent is not None, node.name.value
            selected.add((parent.name, node.name.value))

    visit(parse(every_field_document(READ_SDL)), TypeInfoVisitor(info, Collect()))
    for name, read_type in read.type_map.items():
        if isinstance(read_type, GraphQLObjectType) and not name.startswith("__"):
            for field_name in read_type.fields:
                assert (name, field_name) in selected, f"{name}.{field_name}"


async def test_the_document_of_every_field_is_answered_identically_by_both_executors(
    differ: Differ, library: Library
) -> None:
    answer = await differ(every_field_document(READ_SDL))
    assert answer.compiled, answer.body[:300]
    assert b'"errors"' not in answer.body


def test_the_generated_queries_use_only_fields_of_the_published_schema() -> None:
    published = build_schema(PUBLISHED.read_text())
    restricted = build_schema(READ_SDL)
    for name, read_type in restricted.type_map.items():
        if name.startswith("__") or not isinstance(read_type, GraphQLObjectType):
            continue
        real = published.get_type(name)
        assert isinstance(real, GraphQLObjectType), name
        for field_name, field in read_type.fields.items():
            assert field_name in real.fields, f"{name}.{field_name}"
            real_field = real.fields[field_name]
            assert str(real_field.type) == str(field.type), f"{name}.{field_name}"
            assert set(field.args) <= set(real_field.args), f"{name}.{field_name}"
            for arg_name, arg in field.args.items():
                real_arg = get_named_type(real_field.args[arg_name].type).name
                assert get_named_type(arg.type).name in {real_arg, "PageSize", "Slug", "Moment"}


@settings(
    max_examples=120,
    deadline=None,
    derandomize=True,
    database=None,
    # The library is built once per test and only read by the examples.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(query=queries(READ_SDL, custom_scalars=CUSTOM_SCALARS, allow_x00=False))
async def test_generated_reads_are_answered_identically_by_both_executors(
    differ: Differ, library: Library, query: str
) -> None:
    answer = await differ(query)
    # Every read this schema generates is covered: only refusals (limits) may fall back.
    assert answer.compiled or b'"errors"' in answer.body, (query, answer.body[:300])
