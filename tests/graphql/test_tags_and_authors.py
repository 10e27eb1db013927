"""Tags and authors: lookups, lists, their post connections, and global ids."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.conftest import GraphQLRunner
from tests.factories import BASE_TIME, make_author, make_post, make_tag

TAG_WITH_POSTS = """
query Tag($slug: String!, $first: Int, $after: String) {
  tag(slug: $slug) {
    name slug postCount
    posts(first: $first, after: $after) {
      totalCount
      edges { node { title } }
      pageInfo { hasNextPage endCursor }
    }
  }
}
"""


async def test_a_tag_pages_through_its_own_posts(graphql: GraphQLRunner) -> None:
    python, rust = await make_tag("Python"), await make_tag("Rust")
    for n in range(3):
        await make_post(title=f"Py{n}", tags=(python,), published_at=BASE_TIME + timedelta(hours=n))
    await make_post(title="Oxide", tags=(rust,))

    page = (await graphql(TAG_WITH_POSTS, {"slug": "python", "first": 2}))["data"]["tag"]
    assert page["postCount"] == 3
    assert page["posts"]["totalCount"] == 3
    assert [e["node"]["title"] for e in page["posts"]["edges"]] == ["Py2", "Py1"]
    rest = await graphql(
        TAG_WITH_POSTS,
        {"slug": "python", "first": 2, "after": page["posts"]["pageInfo"]["endCursor"]},
    )
    assert [e["node"]["title"] for e in rest["data"]["tag"]["posts"]["edges"]] == ["Py0"]


async def test_an_unknown_tag_or_author_is_null(graphql: GraphQLRunner) -> None:
    body = await graphql('{ tag(slug: "nope") { name } author(slug: "nope") { name } }')
    assert body == {"data": {"tag": None, "author": None}}


async def test_tags_and_authors_are_listed_by_name(graphql: GraphQLRunner) -> None:
    for name in ("Rust", "Go", "Python"):
        await make_tag(name)
    for name in ("Zoe", "Ada"):
        await make_author(name=name)
    body = await graphql(
        "{ tags(first: 2) { totalCount edges { node { name } } pageInfo { hasNextPage } }"
        " authors { edges { node { name } } } }"
    )
    assert [e["node"]["name"] for e in body["data"]["tags"]["edges"]] == ["Go", "Python"]
    assert body["data"]["tags"]["totalCount"] == 3
    assert body["data"]["tags"]["pageInfo"]["hasNextPage"] is True
    assert [e["node"]["name"] for e in body["data"]["authors"]["edges"]] == ["Ada", "Zoe"]


async def test_an_author_lists_their_posts_and_keeps_their_email_private(
    graphql: GraphQLRunner,
) -> None:
    ada = await make_author(name="Ada", slug="ada", email="ada@example.org", bio="Writes.")
    await make_post(title="Mine", author=ada)
    await make_post(title="Theirs")
    body = await graphql('{ author(slug: "ada") { name bio posts { edges { node { title } } } } }')
    assert body["data"]["author"] == {
        "name": "Ada",
        "bio": "Writes.",
        "posts": {"edges": [{"node": {"title": "Mine"}}]},
    }
    leaked = await graphql('{ author(slug: "ada") { email } }')
    assert leaked["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


NODE = """
query Node($id: ID!) {
  node(id: $id) {
    __typename id
    ... on Post { slug }
    ... on Tag { slug }
    ... on Author { slug }
    ... on Section { anchor }
  }
}
"""


async def test_node_round_trips_every_global_id(graphql: GraphQLRunner) -> None:
    await make_post(
        slug="p", author=await make_author(slug="a"), tags=(await make_tag("T", slug="t"),)
    )
    body = await graphql('{ post(slug: "p") { id author { id } tags { id } sections { id } } }')
    post = body["data"]["post"]
    for global_id, typename, field, value in [
        (post["id"], "Post", "slug", "p"),
        (post["author"]["id"], "Author", "slug", "a"),
        (post["tags"][0]["id"], "Tag", "slug", "t"),
        (post["sections"][0]["id"], "Section", "anchor", "intro"),
    ]:
        node = (await graphql(NODE, {"id": global_id}))["data"]["node"]
        assert node["__typename"] == typename
        assert node["id"] == global_id
        assert node[field] == value


@pytest.mark.parametrize(
    "global_id",
    ["not base64!", "bm9jb2xvbg==", "UG9zdDphYmM=", "UG9zdDotMQ=="],
    ids=["garbage", "no-colon", "non-numeric-pk", "negative-pk"],
)
async def test_a_malformed_global_id_is_bad_user_input(
    graphql: GraphQLRunner, global_id: str
) -> None:
    body = await graphql(NODE, {"id": global_id})
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_a_well_formed_id_of_an_unknown_type_is_null(graphql: GraphQLRunner) -> None:
    body = await graphql(NODE, {"id": "V2lkZ2V0OjE="})  # Widget:1
    assert body == {"data": {"node": None}}


@pytest.mark.parametrize(
    "query",
    [
        pytest.param('{ tag(slug: "%s") { name } }', id="tag"),
        pytest.param('{ author(slug: "%s") { name } }', id="author"),
        pytest.param('{ post(slug: "%s") { title } }', id="post"),
    ],
)
async def test_an_overlong_slug_is_bad_user_input(graphql: GraphQLRunner, query: str) -> None:
    body = await graphql(query % ("x" * 81))
    assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "slug"}
