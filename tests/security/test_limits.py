"""Document limits: depth, aliases, tokens and oversized values, refused before any SQL.

Each test names the limit it guards; without that limit the refused document would run.
"""

from __future__ import annotations

import httpx
import pytest
from graphql import get_introspection_query

from tests.conftest import GraphQLRunner
from tests.helpers import assert_max_queries
from tests.security.conftest import OpenClient, codes

# posts(1) edges(2) node(3) author(4) posts(5) edges(6) node(7) author(8) posts(9) edges(10)
# node(11) title(12)
TWELVE_LEVELS = """
{ posts { edges { node { author { posts { edges { node {
  author { posts { edges { node { title } } } }
} } } } } } } }
"""
TEN_LEVELS = """
{ posts { edges { node { author { posts { edges { node {
  author { posts { totalCount } }
} } } } } } } }
"""
# The same twelve levels, half of them inside fragments.
TWELVE_LEVELS_IN_FRAGMENTS = """
{ posts { edges { node { ...Deeper } } } }
fragment Deeper on Post { author { posts { edges { node { ...Deepest } } } } }
fragment Deepest on Post { author { posts { edges { node { title } } } } }
"""
# What GraphiQL sends when it opens: `ofType` nests about a dozen levels below `__schema`.
GRAPHIQL_INTROSPECTION = get_introspection_query(
    descriptions=True,
    specified_by_url=True,
    directive_is_repeatable=True,
    schema_description=True,
    input_value_deprecation=True,
)


# Guards CMS_MAX_QUERY_DEPTH (cms.graphql.limits.depth_limit).
async def test_a_query_nested_deeper_than_ten_levels_is_refused_before_any_sql(
    graphql: GraphQLRunner,
) -> None:
    async with assert_max_queries(0):
        body = await graphql(TWELVE_LEVELS)
    assert codes(body) == ["QUERY_TOO_DEEP"]
    assert body["errors"][0]["message"] == (
        "The query nests fields 12 levels deep; at most 10 are allowed."
    )


# Guards the depth limit's view of fragments: without following them the query is shallow.
async def test_fragments_count_towards_the_depth(graphql: GraphQLRunner) -> None:
    assert codes(await graphql(TWELVE_LEVELS_IN_FRAGMENTS)) == ["QUERY_TOO_DEEP"]


async def test_ten_levels_are_allowed(graphql: GraphQLRunner) -> None:
    body = await graphql(TEN_LEVELS)
    assert "errors" not in body, body


# Guards the introspection exemption: GraphiQL's own query is deeper than ten levels.
async def test_graphiqls_introspection_query_runs_while_introspection_is_on(
    graphql: GraphQLRunner,
) -> None:
    body = await graphql(GRAPHIQL_INTROSPECTION)
    assert "errors" not in body, body
    assert body["data"]["__schema"]["queryType"]["name"] == "Query"


# Guards that the depth limit reads CMS_MAX_QUERY_DEPTH rather than a constant.
async def test_the_depth_limit_follows_its_setting(app_client: OpenClient) -> None:
    async with app_client(max_query_depth=3) as client:
        response = await client.post(
            "/graphql", json={"query": "{ posts { edges { node { title } } } }"}
        )
    assert codes(response.json()) == ["QUERY_TOO_DEEP"]


def aliased(count: int) -> str:
    return "{ " + " ".join(f"p{n}: posts(first: 1) {{ totalCount }}" for n in range(count)) + " }"


# Guards CMS_MAX_ALIASES (cms.graphql.limits.alias_limit).
async def test_more_than_fifteen_aliases_are_refused_before_any_sql(
    graphql: GraphQLRunner,
) -> None:
    async with assert_max_queries(0):
        body = await graphql(aliased(16))
    assert codes(body) == ["TOO_MANY_ALIASES"]
    assert "16 aliases; at most 15" in body["errors"][0]["message"]


async def test_fifteen_aliases_are_allowed(graphql: GraphQLRunner) -> None:
    body = await graphql(aliased(15))
    assert "errors" not in body, body


# Guards counting aliases through fragments: 4 in the operation, 4 more per use of the fragment.
async def test_aliases_inside_a_fragment_count_each_time_it_is_spread(
    graphql: GraphQLRunner,
) -> None:
    query = """
    { a: post(slug: "a") { ...Titles } b: post(slug: "b") { ...Titles }
      c: post(slug: "c") { ...Titles } d: post(slug: "d") { ...Titles } }
    fragment Titles on Post { t1: title t2: title t3: title t4: title }
    """
    body = await graphql(query)
    assert codes(body) == ["TOO_MANY_ALIASES"]
    assert "20 aliases" in body["errors"][0]["message"]


# Guards CMS_MAX_TOKENS: the repeated field is valid GraphQL, so only the token cap refuses it.
async def test_a_document_of_more_than_a_thousand_tokens_is_query_too_large(
    graphql: GraphQLRunner,
) -> None:
    async with assert_max_queries(0):
        body = await graphql("{ " + "__typename " * 1000 + "}")
    assert codes(body) == ["QUERY_TOO_LARGE"]
    assert "more than 1000 tokens" in body["errors"][0]["message"]


async def test_a_syntax_error_keeps_its_parse_failed_code(graphql: GraphQLRunner) -> None:
    # Guards cms.graphql.guard.ParserCache: strawberry's let parse errors escape their code.
    assert codes(await graphql("{ posts {")) == ["GRAPHQL_PARSE_FAILED"]


async def test_a_validation_error_about_a_variable_is_a_validation_error(
    graphql: GraphQLRunner,
) -> None:
    # Not BAD_USER_INPUT: the document itself is wrong, whatever the variables say.
    body = await graphql("query Unused($id: ID) { __typename }")
    assert codes(body) == ["GRAPHQL_VALIDATION_FAILED"]


TAGS_ANY = "query Any($tags: [String!]) { posts(filter: {tagsAny: $tags}) { totalCount } }"


# Guards CMS_MAX_LIST_ITEMS for variables (cms.graphql.limits.oversized_variable); the
# message, not the service's own cap of 50 slugs, shows which check refused.
async def test_a_variable_list_of_more_than_200_items_is_refused_before_any_sql(
    graphql: GraphQLRunner,
) -> None:
    async with assert_max_queries(0):
        body = await graphql(TAGS_ANY, {"tags": [f"t{n}" for n in range(201)]})
    [error] = body["errors"]
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "tags"}
    assert error["message"] == "`$tags` has 201 items; at most 200 are accepted."


# Guards CMS_MAX_LIST_ITEMS for literals (cms.graphql.limits.literal_size_limit).
async def test_a_list_literal_of_more_than_200_items_is_refused_before_any_sql(
    graphql: GraphQLRunner,
) -> None:
    slugs = ", ".join(f'"t{n}"' for n in range(201))
    async with assert_max_queries(0):
        body = await graphql(f"{{ posts(filter: {{tagsAny: [{slugs}]}}) {{ totalCount }} }}")
    [error] = body["errors"]
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "filter.tagsAny"}
    assert "has 201 items; at most 200" in error["message"]


# Guards CMS_MAX_STRING_LENGTH, for variables (nested in an input object) and literals.
@pytest.mark.parametrize(
    ("document", "variables", "field"),
    [
        pytest.param(
            "query Tag($filter: PostFilter) { posts(filter: $filter) { totalCount } }",
            {"filter": {"tag": "x" * 1001}},
            "filter.tag",
            id="variable",
        ),
        pytest.param(
            '{ posts(filter: {tag: "' + "x" * 1001 + '"}) { totalCount } }',
            None,
            "filter.tag",
            id="literal",
        ),
    ],
)
async def test_a_string_longer_than_the_limit_is_refused_before_any_sql(
    app_client: OpenClient, document: str, variables: dict | None, field: str
) -> None:
    async with app_client(max_string_length=1000) as client, assert_max_queries(0):
        response = await client.post("/graphql", json={"query": document, "variables": variables})
    [error] = response.json()["errors"]
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": field}
    assert "1001 characters long; at most 1000" in error["message"]


async def test_limits_apply_to_get_queries_too(client: httpx.AsyncClient) -> None:
    response = await client.get("/graphql", params={"query": TWELVE_LEVELS})
    assert codes(response.json()) == ["QUERY_TOO_DEEP"]
