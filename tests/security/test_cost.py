"""Query cost: GitHub's node estimate, its limit, and what ``extensions.cost`` reports."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from graphql import parse

from cms.graphql.analysis import analyse
from cms.graphql.cost import PageSizes, count_nodes, estimate_cost
from cms.graphql.schema import schema
from tests.factories import make_post, make_tag
from tests.helpers import assert_max_queries
from tests.security.conftest import OpenClient, codes

PAGES = PageSizes(default=20, maximum=100)


def estimate(query: str, variables: dict[str, Any] | None = None) -> int:
    analysis = analyse(schema._schema, parse(query), None, variables)
    assert analysis is not None
    return estimate_cost(analysis, variables=variables, pages=PAGES)


@pytest.mark.parametrize(
    ("query", "variables", "expected"),
    [
        pytest.param('{ post(slug: "a") { title } }', None, 1, id="one-object"),
        pytest.param("{ posts { totalCount } }", None, 0, id="no-node-selected"),
        pytest.param("{ posts { edges { node { title } } } }", None, 20, id="default-page"),
        pytest.param(
            "{ posts(first: 50) { edges { node { tags { name } } } } }",
            None,
            50 + 50 * 20,
            id="nested-list-multiplies",
        ),
        pytest.param(
            "query($n: Int) { posts(last: $n) { edges { node { title } } } }",
            {"n": 7},
            7,
            id="page-from-a-variable",
        ),
        pytest.param(
            "{ posts(first: 5000) { edges { node { title } } } }",
            None,
            100,
            id="over-the-largest-page-counts-as-the-largest",
        ),
        pytest.param(
            "{ tags(first: 10) { edges { node { posts(first: 10) { edges { node { "
            "author { name } } } } } } } }",
            None,
            10 + 10 * 10 + 10 * 10,
            id="connection-in-connection",
        ),
        pytest.param(
            "query($s: Boolean!) { posts { edges { node { sections @skip(if: $s) { body } } } } }",
            {"s": True},
            20,
            id="skipped-fields-cost-nothing",
        ),
        pytest.param(
            "{ posts(first: 3) { edges { node { title } } } ...More }"
            " fragment More on Query { posts(first: 3) { edges { node { slug } } } }",
            None,
            3,
            id="fields-merged-as-execution-merges-them",
        ),
        pytest.param("{ __schema { types { name } } }", None, 0, id="introspection-is-free"),
        pytest.param(
            '{ search(query: "zero downtime", first: 100) { edges { node { title } } } }',
            None,
            100 + 100 * 2,
            id="search-costs-its-page-times-its-terms",
        ),
        pytest.param(
            "query($q: String!) { search(query: $q) { edges { node { title } } } }",
            {"q": "migrat* -mysql"},
            20 + 20 * (4 + 1),
            id="search-prefix-terms-weigh-four",
        ),
        pytest.param(
            '{ search(query: "postgres") { totalCount } }',
            None,
            20,
            id="search-costs-even-without-nodes",
        ),
    ],
)
def test_estimate_counts_nodes_as_github_does(
    query: str, variables: dict[str, Any] | None, expected: int
) -> None:
    assert estimate(query, variables) == expected


def test_the_count_after_execution_walks_the_data() -> None:
    query = "{ posts { edges { node { title tags { name } author { name } } } } }"
    data = {
        "posts": {
            "edges": [
                {"node": {"title": "a", "tags": [{"name": "x"}, {"name": "y"}], "author": {}}},
                {"node": {"title": "b", "tags": [], "author": {"name": "n"}}},
            ]
        }
    }
    analysis = analyse(schema._schema, parse(query), None, None)
    assert analysis is not None
    counted = count_nodes(analysis, data)
    assert counted == 2 + 2 + 2  # two posts, two tags, two authors


TAGS_AND_THEIR_POSTS = """
{ tags(first: 100) { edges { node { posts(first: 100) { edges { node { title } } } } } } }
"""


# Guards CMS_MAX_QUERY_COST: 100 tags and 100 posts for each are 10,100 nodes.
async def test_a_query_estimated_over_ten_thousand_nodes_is_refused_before_any_sql(
    client: httpx.AsyncClient,
) -> None:
    async with assert_max_queries(0):
        response = await client.post("/graphql", json={"query": TAGS_AND_THEIR_POSTS})
    [error] = response.json()["errors"]
    assert error["extensions"] == {"code": "QUERY_TOO_COMPLEX", "cost": 10_100}
    assert "up to 10100 nodes; at most 10000" in error["message"]


# Guards that the cost limit reads CMS_MAX_QUERY_COST.
async def test_the_cost_limit_follows_its_setting(app_client: OpenClient) -> None:
    query = "{ posts(first: 30) { edges { node { title } } } }"
    async with app_client(max_query_cost=29) as client:
        refused = await client.post("/graphql", json={"query": query})
    async with app_client(max_query_cost=30) as client:
        allowed = await client.post("/graphql", json={"query": query})
    assert codes(refused.json()) == ["QUERY_TOO_COMPLEX"]
    assert "errors" not in allowed.json()


POSTS_AND_TAGS = "{ posts(first: 10) { edges { node { title tags { name } } } } }"


async def test_a_client_that_asks_is_told_the_requested_and_actual_cost(
    client: httpx.AsyncClient,
) -> None:
    python, rust = await make_tag("Python"), await make_tag("Rust")
    await make_post(title="One", tags=(python, rust))
    await make_post(title="Two", tags=(python,))
    response = await client.post(
        "/graphql", json={"query": POSTS_AND_TAGS, "extensions": {"cost": True}}
    )
    assert response.json()["extensions"]["cost"] == {"requested": 10 + 10 * 20, "actual": 5}


async def test_a_refused_query_reports_what_it_would_have_cost(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(
        "/graphql", json={"query": TAGS_AND_THEIR_POSTS, "extensions": {"cost": True}}
    )
    assert response.json()["extensions"]["cost"] == {"requested": 10_100, "actual": 0}


async def test_responses_carry_no_cost_unless_asked(client: httpx.AsyncClient) -> None:
    response = await client.post("/graphql", json={"query": POSTS_AND_TAGS})
    assert "extensions" not in response.json()


def aliased_searches(count: int, terms: int, first: int = 100) -> str:
    query = " ".join(f"w{n}*" for n in range(terms))
    fields = " ".join(
        f'a{n}: search(query: "{query}", first: {first}) {{ edges {{ node {{ title }} }} }}'
        for n in range(count)
    )
    return "{ " + fields + " }"


# The hostile-client report (#12, item 6): fifteen aliased searches of 32 prefix terms took
# 5 s per request on PostgreSQL and were costed at 0.
async def test_a_search_with_more_terms_than_allowed_is_refused_before_any_sql(
    client: httpx.AsyncClient,
) -> None:
    async with assert_max_queries(0):
        response = await client.post("/graphql", json={"query": aliased_searches(15, 32)})
    body = response.json()
    assert body["data"] is None
    [error] = body["errors"]
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "query"}
    assert "32 words or phrases; at most 16" in error["message"]


async def test_fifteen_searches_of_the_most_terms_allowed_are_too_complex(
    client: httpx.AsyncClient,
) -> None:
    async with assert_max_queries(0):
        response = await client.post("/graphql", json={"query": aliased_searches(15, 16)})
    [error] = response.json()["errors"]
    assert error["extensions"] == {"code": "QUERY_TOO_COMPLEX", "cost": 15 * (100 + 100 * 64)}


async def test_a_search_query_in_a_variable_is_bounded_too(client: httpx.AsyncClient) -> None:
    query = "query($q: String!) { search(query: $q, first: 1) { totalCount } }"
    async with assert_max_queries(0):
        response = await client.post(
            "/graphql", json={"query": query, "variables": {"q": "a " * 17}}
        )
    assert codes(response.json()) == ["BAD_USER_INPUT"]


# Guards the estimates remembered per analysis: they are keyed by the variables they read.
def test_one_document_is_estimated_for_each_page_size_it_is_sent_with() -> None:
    query = "query($n: Int, $s: Int) { posts(first: $n) { edges { node { slug } } } }"
    analysis = analyse(schema._schema, parse(query), None, None)
    assert analysis is not None

    def cost(variables: dict[str, Any]) -> int:
        return estimate_cost(analysis, variables=variables, pages=PAGES)

    assert [cost({"n": 7}), cost({"n": 9}), cost({"n": 7}), cost({"n": 7.0})] == [7, 9, 7, 20]
    assert cost({"n": 5, "s": 1}) == cost({"n": 5, "s": 2}) == 5
    assert estimate_cost(analysis, variables={"n": 7}, pages=PageSizes(20, 5)) == 5
