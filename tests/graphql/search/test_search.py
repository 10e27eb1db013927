"""Full-text search through the API: ranking, snippets, visibility, filters and pages."""

from __future__ import annotations

import json

import httpx
import pytest

from cms.models import PostStatus, Role
from tests.conftest import GraphQLRunner, SignIn
from tests.factories import make_author, make_post, make_tag, minutes_ago

SEARCH = """
query Search($query: String!, $first: Int, $after: String, $filter: PostFilter) {
  search(query: $query, first: $first, after: $after, filter: $filter) {
    totalCount
    edges { cursor rank snippet node { slug title } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}
"""


def slugs(body: dict) -> list[str]:
    assert "errors" not in body, body
    return [edge["node"]["slug"] for edge in body["data"]["search"]["edges"]]


def error_code(body: dict) -> str:
    assert body.get("data") is None or body["data"].get("search") is None, body
    return str(body["errors"][0]["extensions"]["code"])


async def test_a_title_match_ranks_above_matches_in_the_body(graphql: GraphQLRunner) -> None:
    await make_post(slug="body", title="Notes", sections=((None, "We tuned the replica lag."),))
    await make_post(slug="title", title="Replica lag", sections=((None, "Unrelated text."),))
    await make_post(slug="none", title="Other", sections=((None, "Nothing here."),))

    body = await graphql(SEARCH, {"query": "replica"})

    assert slugs(body) == ["title", "body"]
    ranks = [edge["rank"] for edge in body["data"]["search"]["edges"]]
    assert ranks[0] > ranks[1] > 0


@pytest.mark.parametrize(
    "fields",
    [
        pytest.param({"title": "Kelp forests"}, id="title"),
        pytest.param({"excerpt": "All about kelp."}, id="excerpt"),
        pytest.param({"sections": (("Growing kelp", "Body."),)}, id="heading"),
        pytest.param({"sections": ((None, "A body about kelp."),)}, id="body"),
    ],
)
async def test_search_looks_in_titles_excerpts_headings_and_bodies(
    graphql: GraphQLRunner, fields: dict
) -> None:
    await make_post(slug="match", **fields)
    await make_post(slug="other", title="Something else", sections=((None, "Nothing."),))

    assert slugs(await graphql(SEARCH, {"query": "kelp"})) == ["match"]


async def test_words_match_other_forms_of_themselves(graphql: GraphQLRunner) -> None:
    await make_post(slug="indexes", sections=((None, "Composite indexes help."),))

    assert slugs(await graphql(SEARCH, {"query": "index"})) == ["indexes"]


async def test_snippets_mark_the_matches_and_escape_everything_else(
    graphql: GraphQLRunner,
) -> None:
    await make_post(
        slug="html",
        title="Output safety",
        sections=((None, "Trust no <script>alert(1)</script> when a < b & escape output."),),
    )

    body = await graphql(SEARCH, {"query": "escape"})

    snippet = body["data"]["search"]["edges"][0]["snippet"]
    assert "<mark>escape</mark>" in snippet
    # PostgreSQL's headline drops what looks like a tag; SQLite keeps it, escaped.
    assert "<script>" not in snippet
    assert "a &lt; b &amp; <mark>escape</mark>" in snippet


async def test_hidden_posts_are_not_found_by_anonymous_readers(graphql: GraphQLRunner) -> None:
    await make_post(slug="live", title="Walrus live", published_at=minutes_ago(5))
    await make_post(slug="draft", title="Walrus draft", status=PostStatus.DRAFT, published_at=None)
    await make_post(slug="future", title="Walrus later", published_at=minutes_ago(-60))
    await make_post(slug="trashed", title="Walrus gone", deleted_at=minutes_ago(1))

    body = await graphql(SEARCH, {"query": "walrus"})

    assert slugs(body) == ["live"]
    assert body["data"]["search"]["totalCount"] == 1


async def test_editors_find_drafts_too(graphql: GraphQLRunner, sign_in: SignIn) -> None:
    editor = await sign_in(Role.EDITOR)
    await make_post(slug="draft", title="Walrus draft", status=PostStatus.DRAFT, published_at=None)

    body = await graphql(SEARCH, {"query": "walrus"}, headers=editor.headers)

    assert slugs(body) == ["draft"]


async def test_the_filter_narrows_results_like_any_post_list(graphql: GraphQLRunner) -> None:
    news = await make_tag("News")
    ada = await make_author(slug="ada")
    await make_post(slug="tagged", title="Otter news", tags=(news,))
    await make_post(slug="by-ada", title="Otter notes", author=ada)
    await make_post(slug="plain", title="Otter facts")

    assert slugs(await graphql(SEARCH, {"query": "otter", "filter": {"tag": "news"}})) == ["tagged"]
    assert slugs(await graphql(SEARCH, {"query": "otter", "filter": {"author": "ada"}})) == [
        "by-ada"
    ]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        pytest.param('"quick fox"', ["exact"], id="phrase"),
        pytest.param("qui*", ["exact", "scrambled"], id="prefix"),
        pytest.param("quick -lazy", ["exact"], id="exclusion"),
        pytest.param("lazy OR exact", ["exact", "scrambled"], id="or"),
        pytest.param("quick AND fox", ["exact", "scrambled"], id="and-keyword"),
    ],
)
async def test_the_query_syntax_works_on_every_database(
    graphql: GraphQLRunner, query: str, expected: list[str]
) -> None:
    await make_post(slug="exact", title="A", sections=((None, "The quick fox, exact."),))
    await make_post(slug="scrambled", title="B", sections=((None, "The fox is quick and lazy."),))

    assert sorted(slugs(await graphql(SEARCH, {"query": query}))) == expected


async def test_pages_walk_every_result_once(graphql: GraphQLRunner) -> None:
    for n in range(5):
        await make_post(slug=f"p{n}", title=f"Heron {n}")

    seen: list[str] = []
    after = None
    while True:
        body = await graphql(SEARCH, {"query": "heron", "first": 2, "after": after})
        seen += slugs(body)
        info = body["data"]["search"]["pageInfo"]
        assert info["hasPreviousPage"] is (after is not None)
        if not info["hasNextPage"]:
            break
        after = info["endCursor"]

    assert sorted(seen) == [f"p{n}" for n in range(5)]
    assert body["data"]["search"]["totalCount"] == 5


@pytest.mark.parametrize(
    "after",
    [
        pytest.param("not a cursor", id="garbage"),
        pytest.param("c2VhcmNoOnYxOmZvbzox", id="another-search"),
        pytest.param("Y3Vyc29yOnYxOlsxXQ==", id="a-list-cursor"),
    ],
)
async def test_a_cursor_not_made_for_this_search_is_bad_user_input(
    graphql: GraphQLRunner, after: str
) -> None:
    body = await graphql(SEARCH, {"query": "heron", "after": after})
    assert error_code(body) == "BAD_USER_INPUT"


async def test_a_cursor_from_another_query_is_bad_user_input(graphql: GraphQLRunner) -> None:
    for n in range(3):
        await make_post(slug=f"p{n}", title=f"Heron egret {n}")
    first = await graphql(SEARCH, {"query": "heron", "first": 1})
    cursor = first["data"]["search"]["pageInfo"]["endCursor"]

    body = await graphql(SEARCH, {"query": "egret", "first": 1, "after": cursor})

    assert error_code(body) == "BAD_USER_INPUT"


async def test_pages_larger_than_the_maximum_are_refused(graphql: GraphQLRunner) -> None:
    assert error_code(await graphql(SEARCH, {"query": "heron", "first": 101})) == "BAD_USER_INPUT"


AWKWARD = [
    '"',
    "*",
    "AND",
    "OR",
    "NOT",
    "NEAR(",
    "NEAR(a b)",
    "\\",
    "\x00",
    "heron\x00",
    "😀",
    "heron 😀",
    "x" * 10_000,
    "heron " * 40,
    '"unterminated heron',
    "heron OR",
    "-heron",
    "- -",
    "title:heron",
    "heron^",
    "(heron",
    "heron)",
    "'; DROP TABLE post; --",
    "{heron}",
    "heron:*",
    "!heron & |",
    "<->",
]


@pytest.mark.parametrize("query", [pytest.param(q, id=repr(q)[:30]) for q in AWKWARD])
async def test_awkward_queries_give_results_or_bad_user_input_never_a_server_error(
    graphql: GraphQLRunner, query: str
) -> None:
    await make_post(slug="heron", title="Heron")

    body = await graphql(SEARCH, {"query": query})

    if body.get("errors"):
        assert [error["extensions"]["code"] for error in body["errors"]] == ["BAD_USER_INPUT"]
    else:
        assert isinstance(body["data"]["search"]["edges"], list)


async def test_a_query_that_is_not_valid_unicode_is_refused_as_a_client_error(
    client: httpx.AsyncClient,
) -> None:
    # A lone surrogate: valid JSON, but no database can hold it. httpx would refuse to encode
    # it, so the body is written by hand.
    payload = json.dumps({"query": SEARCH, "variables": {"query": "LONE"}}).replace(
        "LONE", "\\ud800"
    )
    response = await client.post(
        "/graphql", content=payload, headers={"Content-Type": "application/json"}
    )

    assert response.status_code < 500
    codes = {error["extensions"]["code"] for error in response.json()["errors"]}
    assert codes <= {"BAD_REQUEST", "BAD_USER_INPUT"}
