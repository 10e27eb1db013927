"""Nested reads cost a constant number of SQL statements, whatever the page size or the number
of parents, and batched pages hold exactly what the same list read alone holds."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest

from cms.app import create_app
from cms.models import Author, PostStatus, Tag
from cms.settings import Settings
from tests.conftest import GraphQLRunner
from tests.factories import BASE_TIME, make_author, make_post, make_tag
from tests.helpers import assert_max_queries

HEADLINE = """
query Headline($slug: String!, $first: Int) {
  tag(slug: $slug) {
    posts(first: $first) {
      edges { node { title slug author { name } tags { name } sections { heading body } } }
    }
  }
}
"""

TAGS_WITH_POSTS = """
query Nested($first: Int, $after: String, $last: Int, $before: String) {
  tags(first: 100) {
    edges { node {
      slug postCount
      posts(first: $first, after: $after, last: $last, before: $before) {
        totalCount
        edges { cursor node { slug author { name } sections { heading } } }
        pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      }
    } }
  }
}
"""

# The same list read on its own, through the root field rather than under a tag.
ALONE = """
query Alone($slug: String!, $first: Int, $after: String, $last: Int, $before: String) {
  posts(filter: {tag: $slug}, first: $first, after: $after, last: $last, before: $before) {
    totalCount
    edges { cursor node { slug author { name } sections { heading } } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}
"""

AUTHORS_WITH_POSTS = """
{ authors { edges { node { name posts(first: 2) { totalCount edges { node { slug } } } } } } }
"""


@pytest.fixture(params=[pytest.param(False, id="resolvers"), pytest.param(True, id="compiled")])
async def client(
    settings: Settings, request: pytest.FixtureRequest
) -> AsyncIterator[httpx.AsyncClient]:
    """Both read paths: resolvers with their loaders, and compiled reads (cms.graphql.compiled)."""
    app = create_app(
        settings.model_copy(update={"compiled_reads": request.param}), manage_database=False
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


async def make_library(*, tags: int, posts: int) -> tuple[list[Tag], list[Author]]:
    """``posts`` live posts spread over ``tags`` tags and three authors, plus hidden ones."""
    tag_rows = [await make_tag(f"Tag{n}") for n in range(tags)]
    authors = [await make_author(name=f"Writer {n}") for n in range(3)]
    for n in range(posts):
        await make_post(
            slug=f"p{n}",
            author=authors[n % 3],
            tags=(tag_rows[n % tags], tag_rows[(n * 7 + 1) % tags]),
            sections=(("One", "First."), ("Two", "Second.")),
            # Some posts share a timestamp, so that ties are broken by id.
            published_at=BASE_TIME + timedelta(hours=n // 2),
        )
    for n, status in enumerate((PostStatus.DRAFT, PostStatus.ARCHIVED)):
        await make_post(slug=f"hidden{n}", author=authors[0], tags=(tag_rows[0],), status=status)
    return tag_rows, authors


def ok(body: dict[str, Any]) -> dict[str, Any]:
    assert "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data


async def test_the_headline_query_takes_at_most_five_statements_whatever_the_page_size(
    graphql: GraphQLRunner,
) -> None:
    await make_library(tags=2, posts=110)
    counts = []
    for first in (5, 20, 100):
        async with assert_max_queries(5) as stats:
            data = ok(await graphql(HEADLINE, {"slug": "tag0", "first": first}))
        edges = data["tag"]["posts"]["edges"]
        assert len(edges) == first
        assert all(edge["node"]["sections"] and edge["node"]["tags"] for edge in edges)
        counts.append(stats.statements)
    assert len(set(counts)) == 1, counts


async def test_nested_post_lists_take_the_same_statements_for_two_or_eight_tags(
    graphql: GraphQLRunner,
) -> None:
    await make_library(tags=2, posts=10)
    with_two = await count_statements(graphql, TAGS_WITH_POSTS, {"first": 3})
    for n in range(2, 8):
        await make_post(slug=f"extra{n}", tags=(await make_tag(f"More{n}"),))
    with_eight = await count_statements(graphql, TAGS_WITH_POSTS, {"first": 3})
    # tags, their count, post counts, pages, totals, authors, sections: none per tag.
    assert with_two == with_eight <= 7


async def count_statements(graphql: GraphQLRunner, query: str, variables: dict[str, Any]) -> int:
    async with assert_max_queries(100) as stats:
        ok(await graphql(query, variables))
    return stats.statements


async def test_authors_post_lists_are_batched_too(graphql: GraphQLRunner) -> None:
    await make_library(tags=2, posts=9)
    async with assert_max_queries(4):
        data = ok(await graphql(AUTHORS_WITH_POSTS))
    lists = [edge["node"]["posts"] for edge in data["authors"]["edges"]]
    assert [len(posts["edges"]) for posts in lists] == [2, 2, 2]
    # The first author also wrote the two hidden posts, which are neither listed nor counted.
    assert [posts["totalCount"] for posts in lists] == [3, 3, 3]


PAGES = [
    pytest.param({"first": 4}, id="first"),
    pytest.param({"first": 0}, id="first-zero"),
    pytest.param({"last": 3}, id="last"),
    pytest.param({"first": 3, "after": "CURSOR"}, id="first-after"),
    pytest.param({"last": 2, "before": "CURSOR"}, id="last-before"),
]


@pytest.mark.parametrize("args", PAGES)
async def test_a_batched_page_equals_the_page_read_alone(
    graphql: GraphQLRunner, args: dict[str, Any]
) -> None:
    tags, _ = await make_library(tags=4, posts=30)
    if "CURSOR" in args.values():
        # A cursor from the middle of the list; every tag's list is cut at the same place.
        middle = ok(await graphql(ALONE, {"slug": "tag0", "first": 5}))
        cursor = middle["posts"]["edges"][2]["cursor"]
        args = {name: cursor if value == "CURSOR" else value for name, value in args.items()}

    nested = ok(await graphql(TAGS_WITH_POSTS, args))["tags"]["edges"]
    assert len(nested) == len(tags)
    for edge in nested:
        alone = ok(await graphql(ALONE, {"slug": edge["node"]["slug"], **args}))["posts"]
        assert edge["node"]["posts"] == alone
        assert edge["node"]["postCount"] == alone["totalCount"]
    assert any(edge["node"]["posts"]["edges"] for edge in nested) or args.get("first") == 0
