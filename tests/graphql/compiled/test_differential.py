"""Hand-written cases the compiled path must answer byte for byte as the standard executor.

Each case runs on both apps (see conftest). ``compiled`` says whether the compiled path is
expected to answer it; ``False`` cases prove that the fallback is taken, and is exact.
"""

from __future__ import annotations

import base64

import orjson
import pytest

from cms.graphql.node import to_global_id
from cms.models import Role
from tests.conftest import SignIn
from tests.graphql.compiled.conftest import Differ, Library

HEADLINE = """
query Headline($slug: String!, $first: Int) {
  tag(slug: $slug) {
    posts(first: $first) {
      edges { node { title slug author { name } tags { name } sections { heading body } } }
    }
  }
}
"""

EVERYTHING = """
query Everything($first: Int, $after: String, $last: Int, $before: String,
                 $filter: PostFilter, $order: PostOrder! = PUBLISHED_AT_DESC) {
  __typename
  posts(first: $first, after: $after, last: $last, before: $before, filter: $filter,
        orderBy: $order) {
    __typename
    totalCount
    pageInfo { __typename hasNextPage hasPreviousPage startCursor endCursor }
    edges {
      __typename
      cursor
      node {
        __typename id slug title excerpt status publishedAt createdAt updatedAt version
        deletedAt readingTimeMinutes
        author { __typename id name slug bio }
        tags { __typename id name slug description postCount }
        sections { __typename id position heading anchor body html plainText }
      }
    }
  }
}
"""

FRAGMENTS = """
query Fragments($withTags: Boolean!, $skipBody: Boolean!) {
  tags(first: 10) {
    edges { node { ...TagParts } }
    edges { cursor node { slug } }
  }
}
fragment TagParts on Tag {
  name
  ... on Node { id }
  latest: posts(first: 2) { edges { node { ...PostParts } } }
  oldest: posts(first: 2, orderBy: PUBLISHED_AT_ASC) {
    totalCount
    edges { node { title ... @include(if: $withTags) { tags { name } } } }
  }
  postCount
}
fragment PostParts on Post {
  title
  title
  heading: title
  sections { anchor body @skip(if: $skipBody) }
  author { name }
}
"""

CASES = [
    pytest.param(HEADLINE, {"slug": "databases"}, True, id="headline"),
    pytest.param(HEADLINE, {"slug": "databases", "first": 0}, True, id="headline-empty-page"),
    pytest.param(HEADLINE, {"slug": "empty"}, True, id="tag-without-posts"),
    pytest.param(HEADLINE, {"slug": "missing"}, True, id="tag-not-found-is-null"),
    pytest.param(HEADLINE, {"slug": "databases", "first": 101}, False, id="page-too-large"),
    pytest.param(HEADLINE, {"slug": "x" * 81}, False, id="slug-too-long"),
    pytest.param(EVERYTHING, {}, True, id="every-field"),
    pytest.param(EVERYTHING, {"first": 3}, True, id="first-page"),
    pytest.param(EVERYTHING, {"last": 3}, True, id="last-page"),
    pytest.param(EVERYTHING, {"first": 4, "order": "TITLE_ASC"}, True, id="by-title"),
    pytest.param(EVERYTHING, {"first": 4, "order": "UPDATED_AT_DESC"}, True, id="by-update"),
    pytest.param(EVERYTHING, {"last": 2, "order": "PUBLISHED_AT_ASC"}, True, id="last-ascending"),
    pytest.param(EVERYTHING, {"filter": {"tag": "apple"}}, True, id="filter-tag"),
    pytest.param(EVERYTHING, {"filter": {"tagsAny": ["zebra", "eclair"]}}, True, id="tags-any"),
    pytest.param(EVERYTHING, {"filter": {"author": "bob"}}, True, id="filter-author"),
    pytest.param(
        EVERYTHING,
        {"filter": {"publishedAfter": "2020-01-01T00:00:00+02:00", "author": "ada"}},
        True,
        id="filter-published-after",
    ),
    pytest.param(EVERYTHING, {"filter": {"tag": "nope"}}, True, id="filter-matches-nothing"),
    pytest.param(EVERYTHING, {"first": 2, "last": 2}, False, id="first-and-last"),
    pytest.param(EVERYTHING, {"after": "bm90IGEgY3Vyc29y"}, False, id="invalid-cursor"),
    pytest.param(EVERYTHING, {"first": -1}, False, id="negative-page"),
    pytest.param(FRAGMENTS, {"withTags": True, "skipBody": False}, True, id="fragments"),
    pytest.param(FRAGMENTS, {"withTags": False, "skipBody": True}, True, id="fragments-skipped"),
    pytest.param(
        '{ a: post(slug: "post-03") { title } b: post(slug: "draft") { title } '
        'c: post(slug: "trashed") { title } d: post(slug: "scheduled-future") { id } '
        'e: post(slug: "scheduled-live") { slug readingTimeMinutes } }',
        None,
        True,
        id="posts-by-slug-drafts-hidden",
    ),
    pytest.param("{ post { id } }", None, False, id="post-without-arguments"),
    pytest.param('{ post(id: "bm9wZQ==") { id } }', None, False, id="post-malformed-id"),
    pytest.param(
        "{ authors { totalCount edges { cursor node { name slug bio posts(last: 1) { "
        "pageInfo { hasNextPage hasPreviousPage } edges { node { title } } } } } } }",
        None,
        True,
        id="authors",
    ),
    pytest.param(
        '{ author(slug: "zed") { name posts { totalCount edges { cursor } } } }',
        None,
        True,
        id="author-without-posts",
    ),
    pytest.param("{ __typename }", None, True, id="typename-only"),
    pytest.param(
        "{ posts(first: 6) { edges { node { author { name posts(first: 1) { totalCount "
        "pageInfo { hasNextPage } edges { node { slug } } } } } } } }",
        None,
        True,
        id="authors-posts-under-posts",
    ),
    pytest.param('{ node(id: "x") { id } }', None, False, id="node-falls-back"),
    pytest.param(
        "{ posts { edges { node { revisions { totalCount } } } } }",
        None,
        False,
        id="revisions-fall-back",
    ),
    pytest.param("{ __schema { queryType { name } } }", None, False, id="introspection"),
    pytest.param("{ posts { nope } }", None, False, id="validation-error"),
    pytest.param("{ posts { ", None, False, id="syntax-error"),
    pytest.param(
        "{ posts(first: 2) { edges { node { readingTime } } } }",
        None,
        True,
        id="deprecated-field-keeps-its-notice",
    ),
]


@pytest.mark.parametrize(("query", "variables", "compiled"), CASES)
async def test_the_compiled_path_answers_exactly_as_the_standard_executor(
    differ: Differ, library: Library, query: str, variables: dict | None, compiled: bool
) -> None:
    answer = await differ(query, variables)
    assert answer.compiled is compiled, answer.body[:500]


async def test_cursors_walk_forwards_and_backwards_identically(
    differ: Differ, library: Library
) -> None:
    query = """query Walk($first: Int, $after: String, $last: Int, $before: String) {
      tag(slug: "databases") { posts(first: $first, after: $after, last: $last, before: $before)
        { pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor } } }
      posts(first: $first, after: $after, last: $last, before: $before) {
        pageInfo { hasNextPage hasPreviousPage endCursor startCursor } edges { node { slug } } }
    }"""
    variables: dict = {"first": 2}
    for _ in range(4):
        answer = await differ(query, variables)
        assert answer.compiled
        info = orjson.loads(answer.body)["data"]["posts"]["pageInfo"]
        if not info["hasNextPage"]:
            break
        variables = {"first": 2, "after": info["endCursor"]}
    answer = await differ(query, {"last": 2, "before": info["startCursor"]})
    assert answer.compiled


async def test_posts_by_global_id_are_compiled_and_other_types_fall_back(
    differ: Differ, library: Library
) -> None:
    post = library.posts[4]
    query = "query One($id: ID) { post(id: $id) { id title author { id } } }"
    assert (await differ(query, {"id": to_global_id("Post", post.id)})).compiled
    assert (await differ(query, {"id": to_global_id("Post", 99999)})).compiled
    assert not (await differ(query, {"id": to_global_id("Tag", post.id)})).compiled
    raw = base64.b64encode(b"Post:not-a-number").decode()
    assert not (await differ(query, {"id": raw})).compiled


async def test_readers_who_may_see_drafts_get_the_standard_executor(
    differ: Differ, library: Library, sign_in: SignIn
) -> None:
    query = "{ posts(first: 50) { totalCount edges { node { slug status } } } }"
    anonymous = await differ(query)
    assert anonymous.compiled
    assert b'"draft"' not in anonymous.body
    assert b'"trashed"' not in anonymous.body
    editor = await sign_in(Role.EDITOR)
    with_drafts = await differ(query, headers=editor.headers)
    assert not with_drafts.compiled
    assert b'"draft"' in with_drafts.body
    bad_token = await differ(query, headers={"Authorization": "Bearer nope"})
    assert not bad_token.compiled
