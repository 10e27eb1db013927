"""Ids and dates beyond what the database can hold are BAD_USER_INPUT, never internal errors.

Every id column is a 32-bit signed integer: a global id naming a larger key cannot match a row,
and PostgreSQL (asyncpg) or SQLite would fail the query rather than find nothing. Timestamps
must stay within years 1 to 9999 once converted to UTC; "9999-12-31T23:59:59-14:00" is a valid
ISO 8601 string whose UTC instant falls in year 10000.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any

import pytest

from cms.graphql.node import to_global_id
from cms.models import ApiToken, Post, PostStatus, Role
from cms.services.pagination import encode_cursor
from tests.conftest import GraphQLRunner, SignIn
from tests.factories import make_post

# The hostile client's ids: a 26-digit key (overflows SQLite's INTEGER) and one just past
# PostgreSQL's int4.
HUGE_IDS = [
    pytest.param(base64.b64encode(b"Post:99999999999999999999999999").decode(), id="26-digits"),
    pytest.param(to_global_id("Post", 3_000_000_000), id="3e9"),
    pytest.param(to_global_id("Post", 2**31), id="2^31"),
]
LATE = "9999-12-31T23:59:59-14:00"  # year 10000 in UTC
EARLY = "0001-01-01T00:00:00+14:00"  # year 0 in UTC


def assert_bad_input(body: dict[str, Any], field: str | None = None) -> None:
    assert body.get("errors"), body
    extensions = body["errors"][0]["extensions"]
    assert extensions["code"] == "BAD_USER_INPUT", body
    if field is not None:
        assert extensions.get("field") == field, body


@pytest.mark.parametrize("global_id", HUGE_IDS)
async def test_node_with_an_id_beyond_the_column_is_bad_input(
    graphql: GraphQLRunner, global_id: str
) -> None:
    body = await graphql("query($id: ID!) { node(id: $id) { id } }", {"id": global_id})
    assert_bad_input(body, "id")


@pytest.mark.parametrize("global_id", HUGE_IDS)
async def test_post_with_an_id_beyond_the_column_is_bad_input(
    graphql: GraphQLRunner, global_id: str
) -> None:
    body = await graphql("query($id: ID!) { post(id: $id) { title } }", {"id": global_id})
    assert_bad_input(body, "id")


async def test_the_largest_id_the_column_holds_is_simply_not_found(
    graphql: GraphQLRunner,
) -> None:
    body = await graphql(
        "query($id: ID!) { node(id: $id) { id } }", {"id": to_global_id("Post", 2**31 - 1)}
    )
    assert body == {"data": {"node": None}}


async def test_revoking_a_token_with_an_id_beyond_the_column_is_bad_input(
    graphql: GraphQLRunner, sign_in: SignIn
) -> None:
    session = await sign_in(Role.AUTHOR)
    body = await graphql(
        """mutation($id: ID!) {
          revokeApiToken(input: {id: $id}) { apiToken { id } errors { code field } }
        }""",
        {"id": to_global_id("ApiToken", 3_000_000_000)},
        headers=session.headers,
    )
    assert body["data"]["revokeApiToken"]["errors"] == [{"code": "BAD_USER_INPUT", "field": "id"}]
    assert await ApiToken.filter(revoked_at__not_isnull=True).count() == 0


@pytest.mark.parametrize(
    "values",
    [
        pytest.param([datetime(2026, 1, 1, tzinfo=UTC).isoformat(), 3_000_000_000], id="id"),
        pytest.param([LATE, 1], id="timestamp"),
        pytest.param([EARLY, 1], id="early-timestamp"),
    ],
)
async def test_a_cursor_beyond_the_columns_is_bad_input(
    graphql: GraphQLRunner, values: list[Any]
) -> None:
    await make_post()
    cursor = encode_cursor(values)
    body = await graphql(
        "query($after: String) { posts(after: $after) { edges { node { title } } } }",
        {"after": cursor},
    )
    assert_bad_input(body, "after")


@pytest.mark.parametrize("instant", [LATE, EARLY])
@pytest.mark.parametrize("argument", ["publishedAfter", "publishedBefore"])
async def test_a_filter_date_outside_years_1_to_9999_is_bad_input(
    graphql: GraphQLRunner, argument: str, instant: str
) -> None:
    await make_post()
    inline = await graphql(f'{{ posts(filter: {{{argument}: "{instant}"}}) {{ totalCount }} }}')
    assert_bad_input(inline, argument)
    variables = await graphql(
        "query($f: PostFilter) { posts(filter: $f) { totalCount } }",
        {"f": {argument: instant}},
    )
    assert_bad_input(variables)


@pytest.mark.parametrize("instant", [LATE, EARLY])
async def test_publishing_at_a_date_outside_years_1_to_9999_is_bad_input(
    graphql: GraphQLRunner, sign_in: SignIn, instant: str
) -> None:
    session = await sign_in(Role.EDITOR)
    post = await make_post(status=PostStatus.DRAFT, published_at=None)
    body = await graphql(
        """mutation($id: ID!, $at: DateTime) {
          publishPost(input: {id: $id, expectedVersion: 1, at: $at}) {
            post { status } errors { code field }
          }
        }""",
        {"id": to_global_id("Post", post.id), "at": instant},
        headers=session.headers,
    )
    assert "errors" not in body, body
    assert body["data"]["publishPost"]["errors"] == [{"code": "BAD_USER_INPUT", "field": "at"}]
    stored = await Post.get(id=post.id)
    assert (stored.status, stored.published_at, stored.version) == (PostStatus.DRAFT, None, 1)


async def test_publishing_at_the_last_storable_second_works(
    graphql: GraphQLRunner, sign_in: SignIn
) -> None:
    session = await sign_in(Role.EDITOR)
    post = await make_post(status=PostStatus.DRAFT, published_at=None)
    body = await graphql(
        """mutation($id: ID!, $at: DateTime) {
          publishPost(input: {id: $id, expectedVersion: 1, at: $at}) {
            post { status publishedAt } errors { code field }
          }
        }""",
        {"id": to_global_id("Post", post.id), "at": "9999-12-31T23:59:59Z"},
        headers=session.headers,
    )
    assert body["data"]["publishPost"] == {
        "post": {"status": "SCHEDULED", "publishedAt": "9999-12-31T23:59:59+00:00"},
        "errors": [],
    }


@pytest.mark.parametrize("instant", [LATE, EARLY])
async def test_reading_a_post_as_of_a_date_outside_years_1_to_9999_is_bad_input(
    graphql: GraphQLRunner, sign_in: SignIn, instant: str
) -> None:
    session = await sign_in(Role.EDITOR)
    post = await make_post()
    body = await graphql(
        "query($id: ID!, $asOf: DateTime) { post(id: $id, asOf: $asOf) { title } }",
        {"id": to_global_id("Post", post.id), "asOf": instant},
        headers=session.headers,
    )
    assert_bad_input(body, "asOf")
