"""Values with SQL or LIKE metacharacters are plain text wherever a client names something.

tests/graphql/test_posts.py covers the `tag` and `author` filters; this file covers the exact
lookups (`post`, `tag`, `author` by slug), the `tagsAny` filter and `node` ids, with values
that would match the stored rows if they reached SQL as a pattern or as code.
"""

from __future__ import annotations

import pytest

from tests.conftest import GraphQLRunner
from tests.factories import make_author, make_post, make_tag

# Each would match "python" (or everything) if it were a LIKE pattern, GLOB, regex or SQL.
HOSTILE = [
    pytest.param("pyth%", id="like-percent"),
    pytest.param("pytho_", id="like-underscore"),
    pytest.param("%", id="match-all"),
    pytest.param("pyth*", id="glob-star"),
    pytest.param("pytho[nN]", id="glob-class"),
    pytest.param("python' OR '1'='1", id="quote-injection"),
    pytest.param('python" OR "1"="1', id="double-quote"),
    pytest.param("python'; DROP TABLE tag; --", id="statement"),
    pytest.param("pyth\\%", id="escaped-percent"),
    pytest.param("python\\", id="trailing-backslash"),
    pytest.param("PYTHON", id="other-case"),
    pytest.param(" python", id="leading-space"),
    pytest.param("pyth.n", id="regex-dot"),
    pytest.param("pythön", id="accent"),
    pytest.param("🐍", id="emoji"),
]

LOOKUPS = {
    "post": "{ post(slug: $value) { title } }",
    "tag": "{ tag(slug: $value) { name } }",
    "author": "{ author(slug: $value) { name } }",
}


@pytest.fixture
async def python_everywhere() -> None:
    """A post, a tag and an author, each with the slug "python"."""
    await make_post(
        slug="python",
        title="Python",
        author=await make_author(slug="python", name="Python"),
        tags=(await make_tag("Python"),),
    )


@pytest.mark.parametrize("value", HOSTILE)
@pytest.mark.parametrize("kind", sorted(LOOKUPS))
async def test_lookups_by_slug_match_the_exact_text_only(
    graphql: GraphQLRunner, python_everywhere: None, kind: str, value: str
) -> None:
    query = "query($value: String!) " + LOOKUPS[kind]
    body = await graphql(query, {"value": value})
    assert "errors" not in body or body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert (body.get("data") or {}).get(kind) is None


@pytest.mark.parametrize("value", HOSTILE)
async def test_tags_any_matches_exact_slugs_only(
    graphql: GraphQLRunner, python_everywhere: None, value: str
) -> None:
    body = await graphql(
        "query($tags: [String!]) { posts(filter: {tagsAny: $tags}) { totalCount } }",
        {"tags": [value]},
    )
    assert body["data"]["posts"]["totalCount"] == 0


async def test_the_exact_slug_still_matches(
    graphql: GraphQLRunner, python_everywhere: None
) -> None:
    for kind, lookup in LOOKUPS.items():
        body = await graphql("query($value: String!) " + lookup, {"value": "python"})
        assert body["data"][kind] is not None, kind


async def test_the_tables_survive_the_injection_attempts(
    graphql: GraphQLRunner, python_everywhere: None
) -> None:
    await graphql(
        "query($value: String!) { tag(slug: $value) { name } }",
        {"value": "x'; DROP TABLE tag; --"},
    )
    body = await graphql('{ tag(slug: "python") { name } }')
    assert body == {"data": {"tag": {"name": "Python"}}}


@pytest.mark.parametrize(
    "global_id",
    ["UG9zdDol", "UG9zdDonIE9SIDE9MQ==", "%", "Tag:1' OR '1'='1", "\u0000", "UG9zdDox" * 50],
    ids=["post-percent", "post-injection", "percent", "raw-injection", "nul", "long"],
)
async def test_node_ids_that_are_not_ours_find_nothing(
    graphql: GraphQLRunner, python_everywhere: None, global_id: str
) -> None:
    body = await graphql("query($id: ID!) { node(id: $id) { id } }", {"id": global_id})
    assert (body.get("data") or {}).get("node") is None
