"""The public read API for posts: lists, pagination, filters, orderings and single posts."""

from __future__ import annotations

from datetime import timedelta

import pytest

from cms.models import PostStatus
from tests.conftest import GraphQLRunner
from tests.factories import BASE_TIME, make_author, make_post, make_tag

POST_TITLES = """
query Titles($first: Int, $after: String, $last: Int, $before: String,
             $filter: PostFilter, $orderBy: PostOrder! = PUBLISHED_AT_DESC) {
  posts(first: $first, after: $after, last: $last, before: $before,
        filter: $filter, orderBy: $orderBy) {
    totalCount
    edges { cursor node { title } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}
"""


def titles(body: dict) -> list[str]:
    assert "errors" not in body, body
    return [edge["node"]["title"] for edge in body["data"]["posts"]["edges"]]


async def make_numbered_posts(count: int, *, same_time: bool = False) -> None:
    author = await make_author()
    for n in range(count):
        published = BASE_TIME if same_time else BASE_TIME + timedelta(hours=n)
        await make_post(title=f"P{n}", author=author, published_at=published)


async def test_posts_are_newest_first_by_default(graphql: GraphQLRunner) -> None:
    await make_numbered_posts(3)
    assert titles(await graphql(POST_TITLES)) == ["P2", "P1", "P0"]


async def test_first_and_after_walk_the_list_without_gaps_or_repeats(
    graphql: GraphQLRunner,
) -> None:
    await make_numbered_posts(5)
    first = await graphql(POST_TITLES, {"first": 2})
    assert titles(first) == ["P4", "P3"]
    info = first["data"]["posts"]["pageInfo"]
    assert info["hasNextPage"] is True
    assert info["hasPreviousPage"] is False
    second = await graphql(POST_TITLES, {"first": 2, "after": info["endCursor"]})
    assert titles(second) == ["P2", "P1"]
    assert second["data"]["posts"]["pageInfo"]["hasPreviousPage"] is True
    third = await graphql(
        POST_TITLES, {"first": 2, "after": second["data"]["posts"]["pageInfo"]["endCursor"]}
    )
    assert titles(third) == ["P0"]
    assert third["data"]["posts"]["pageInfo"]["hasNextPage"] is False
    assert third["data"]["posts"]["totalCount"] == 5


async def test_last_and_before_walk_the_list_backwards(graphql: GraphQLRunner) -> None:
    await make_numbered_posts(5)
    last = await graphql(POST_TITLES, {"last": 2})
    assert titles(last) == ["P1", "P0"]
    info = last["data"]["posts"]["pageInfo"]
    assert (info["hasPreviousPage"], info["hasNextPage"]) == (True, False)
    earlier = await graphql(POST_TITLES, {"last": 2, "before": info["startCursor"]})
    assert titles(earlier) == ["P3", "P2"]
    info = earlier["data"]["posts"]["pageInfo"]
    assert (info["hasPreviousPage"], info["hasNextPage"]) == (True, True)
    first_page = await graphql(POST_TITLES, {"last": 2, "before": info["startCursor"]})
    assert titles(first_page) == ["P4"]
    assert first_page["data"]["posts"]["pageInfo"]["hasPreviousPage"] is False


async def test_cursors_are_stable_when_posts_share_a_publication_time(
    graphql: GraphQLRunner,
) -> None:
    await make_numbered_posts(6, same_time=True)
    seen: list[str] = []
    after = None
    while True:
        body = await graphql(POST_TITLES, {"first": 2, "after": after})
        seen += titles(body)
        info = body["data"]["posts"]["pageInfo"]
        if not info["hasNextPage"]:
            break
        after = info["endCursor"]
    # Ties are broken by id, newest id first, and every post appears exactly once.
    assert seen == ["P5", "P4", "P3", "P2", "P1", "P0"]


async def test_a_cursor_stays_valid_after_new_posts_arrive(graphql: GraphQLRunner) -> None:
    await make_numbered_posts(3)
    body = await graphql(POST_TITLES, {"first": 1})
    cursor = body["data"]["posts"]["pageInfo"]["endCursor"]
    await make_post(title="Newer", published_at=BASE_TIME + timedelta(days=1))
    assert titles(await graphql(POST_TITLES, {"first": 5, "after": cursor})) == ["P1", "P0"]


async def test_an_empty_list_has_an_empty_page(graphql: GraphQLRunner) -> None:
    body = await graphql(POST_TITLES, {"first": 3})
    assert body["data"]["posts"] == {
        "totalCount": 0,
        "edges": [],
        "pageInfo": {
            "hasNextPage": False,
            "hasPreviousPage": False,
            "startCursor": None,
            "endCursor": None,
        },
    }


async def test_first_zero_returns_no_edges_but_says_more_exist(graphql: GraphQLRunner) -> None:
    await make_numbered_posts(2)
    body = await graphql(POST_TITLES, {"first": 0})
    assert titles(body) == []
    assert body["data"]["posts"]["totalCount"] == 2


async def test_the_default_page_holds_twenty_posts(graphql: GraphQLRunner) -> None:
    await make_numbered_posts(21, same_time=True)
    body = await graphql(POST_TITLES)
    assert len(titles(body)) == 20
    assert body["data"]["posts"]["pageInfo"]["hasNextPage"] is True


@pytest.mark.parametrize(
    ("variables", "field"),
    [
        pytest.param({"first": 101}, "first", id="first-over-maximum"),
        pytest.param({"last": 101}, "last", id="last-over-maximum"),
        pytest.param({"first": -1}, "first", id="negative-first"),
        pytest.param({"first": 1, "last": 1}, "first", id="first-and-last"),
        pytest.param({"after": "not-a-cursor"}, "after", id="garbage-cursor"),
        pytest.param({"before": "Y3Vyc29yOnYxOlsxXQ=="}, "before", id="cursor-of-another-shape"),
        pytest.param({"after": "!!!"}, "after", id="not-base64"),
    ],
)
async def test_bad_page_arguments_are_bad_user_input(
    graphql: GraphQLRunner, variables: dict, field: str
) -> None:
    await make_numbered_posts(1)
    body = await graphql(POST_TITLES, variables)
    assert body["data"] is None
    [error] = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["field"] == field
    assert "Traceback" not in str(body)


async def test_a_cursor_from_another_ordering_is_rejected(graphql: GraphQLRunner) -> None:
    await make_numbered_posts(2)
    body = await graphql(POST_TITLES, {"first": 1, "orderBy": "TITLE_ASC"})
    cursor = body["data"]["posts"]["pageInfo"]["endCursor"]
    rejected = await graphql(POST_TITLES, {"after": cursor, "orderBy": "PUBLISHED_AT_DESC"})
    assert rejected["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


@pytest.mark.parametrize(
    ("order", "expected"),
    [
        pytest.param("PUBLISHED_AT_DESC", ["Beta", "Alpha", "Gamma"], id="published-desc"),
        pytest.param("PUBLISHED_AT_ASC", ["Gamma", "Alpha", "Beta"], id="published-asc"),
        pytest.param("TITLE_ASC", ["Alpha", "Beta", "Gamma"], id="title-asc"),
        pytest.param("UPDATED_AT_DESC", ["Gamma", "Beta", "Alpha"], id="updated-desc"),
    ],
)
async def test_orderings(graphql: GraphQLRunner, order: str, expected: list[str]) -> None:
    # Created (and so updated) in the order Alpha, Beta, Gamma; published Gamma, Alpha, Beta.
    await make_post(title="Alpha", published_at=BASE_TIME + timedelta(hours=1))
    await make_post(title="Beta", published_at=BASE_TIME + timedelta(hours=2))
    await make_post(title="Gamma", published_at=BASE_TIME)
    assert titles(await graphql(POST_TITLES, {"orderBy": order})) == expected


async def test_filters_by_tag_any_tag_author_and_time(graphql: GraphQLRunner) -> None:
    ada = await make_author(slug="ada")
    python, rust, go = await make_tag("Python"), await make_tag("Rust"), await make_tag("Go")
    await make_post(title="Py", tags=(python,), author=ada, published_at=BASE_TIME)
    await make_post(title="Both", tags=(python, rust), published_at=BASE_TIME + timedelta(days=1))
    await make_post(title="Gopher", tags=(go,), published_at=BASE_TIME + timedelta(days=2))

    async def matching(filter_: dict) -> list[str]:
        return titles(await graphql(POST_TITLES, {"filter": filter_}))

    assert await matching({"tag": "python"}) == ["Both", "Py"]
    assert await matching({"tagsAny": ["rust", "go"]}) == ["Gopher", "Both"]
    assert await matching({"tagsAny": ["python", "rust"]}) == ["Both", "Py"]  # once each
    assert await matching({"author": "ada"}) == ["Py"]
    assert await matching({"publishedAfter": (BASE_TIME + timedelta(days=1)).isoformat()}) == [
        "Gopher",
        "Both",
    ]
    assert await matching({"publishedBefore": (BASE_TIME + timedelta(days=1)).isoformat()}) == [
        "Py"
    ]
    assert await matching({"tag": "python", "author": "ada"}) == ["Py"]
    assert await matching({"tag": "no-such-tag"}) == []


@pytest.mark.parametrize(
    "value",
    ["%", "_", "' OR 1=1 --", "\\", "python%", "🐍", "x" * 80],
    ids=["percent", "underscore", "quote", "backslash", "like-pattern", "emoji", "longest"],
)
async def test_filter_values_are_plain_text(graphql: GraphQLRunner, value: str) -> None:
    await make_post(title="Py", tags=(await make_tag("Python"),))
    body = await graphql(POST_TITLES, {"filter": {"tag": value, "author": value}})
    assert titles(body) == []


@pytest.mark.parametrize(
    ("filter_", "field"),
    [
        pytest.param({"tag": "x" * 81}, "tag", id="tag"),
        pytest.param({"author": "x" * 5000}, "author", id="author"),
        pytest.param({"tagsAny": ["x" * 81]}, "tagsAny", id="tags-any-slug"),
        pytest.param({"tagsAny": ["x"] * 51}, "tagsAny", id="tags-any-count"),
        pytest.param({"tag": "a\x00b"}, "tag", id="nul"),
    ],
)
async def test_filter_values_no_column_can_hold_are_bad_user_input(
    graphql: GraphQLRunner, filter_: dict, field: str
) -> None:
    body = await graphql(POST_TITLES, {"filter": filter_})
    assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": field}


POST_BY_SLUG = """
query Post($slug: String, $id: ID) {
  post(slug: $slug, id: $id) {
    id slug title status publishedAt version readingTimeMinutes
    author { name slug }
    tags { name slug }
    sections { position heading anchor body html plainText }
  }
}
"""


async def test_a_post_with_everything_hanging_off_it(graphql: GraphQLRunner) -> None:
    author = await make_author(name="Ada", slug="ada")
    await make_post(
        slug="hello",
        title="Hello",
        author=author,
        tags=(await make_tag("Zeta"), await make_tag("Alpha")),
        sections=(
            (None, "Intro with **bold**."),
            ("Setup", "First."),
            ("Setup", "Second."),
        ),
    )
    post = (await graphql(POST_BY_SLUG, {"slug": "hello"}))["data"]["post"]
    assert post["author"] == {"name": "Ada", "slug": "ada"}
    assert [tag["name"] for tag in post["tags"]] == ["Alpha", "Zeta"]
    assert [(s["position"], s["heading"], s["anchor"]) for s in post["sections"]] == [
        (0, None, "intro"),
        (1, "Setup", "setup"),
        (2, "Setup", "setup-2"),
    ]
    assert post["sections"][0]["html"] == "<p>Intro with <strong>bold</strong>.</p>\n"
    assert post["sections"][0]["plainText"] == "Intro with bold."
    assert post["status"] == "PUBLISHED"
    assert post["readingTimeMinutes"] == 1
    by_id = await graphql(POST_BY_SLUG, {"id": post["id"]})
    assert by_id["data"]["post"] == post


async def test_raw_html_in_markdown_is_escaped(graphql: GraphQLRunner) -> None:
    await make_post(slug="xss", sections=((None, "<script>alert(1)</script> <b>hi</b>"),))
    [section] = (await graphql(POST_BY_SLUG, {"slug": "xss"}))["data"]["post"]["sections"]
    assert "<script>" not in section["html"]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in section["html"]
    assert "<b>" not in section["html"]


@pytest.mark.parametrize(
    "variables",
    [pytest.param({}, id="neither"), pytest.param({"slug": "a", "id": "UG9zdDox"}, id="both")],
)
async def test_post_needs_exactly_one_of_id_and_slug(
    graphql: GraphQLRunner, variables: dict
) -> None:
    body = await graphql(POST_BY_SLUG, variables)
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_an_unknown_post_is_null(graphql: GraphQLRunner) -> None:
    assert (await graphql(POST_BY_SLUG, {"slug": "nope"})) == {"data": {"post": None}}


async def test_reading_time_grows_with_the_text(graphql: GraphQLRunner) -> None:
    await make_post(slug="long", sections=((None, "word " * 1000),))
    post = (await graphql(POST_BY_SLUG, {"slug": "long"}))["data"]["post"]
    assert post["readingTimeMinutes"] == 5  # 1,001 words at 230 a minute


async def test_status_enum_is_reported_by_name(graphql: GraphQLRunner) -> None:
    await make_post(slug="sched", status=PostStatus.SCHEDULED)
    post = (await graphql(POST_BY_SLUG, {"slug": "sched"}))["data"]["post"]
    assert post["status"] == "SCHEDULED"
