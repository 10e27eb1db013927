"""Who reads drafts, and paging through lists that mix drafts (no publication date) and posts.

Drafts have no ``published_at``; in lists ordered by publication they sort by their creation
time instead, the same way on SQLite and PostgreSQL, and cursors walk them without gaps.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from cms.graphql.node import to_global_id
from cms.models import Author, Post, PostStatus, Role, Section
from tests.conftest import GraphQLRunner, SignIn
from tests.factories import BASE_TIME, make_author, make_post, make_tag

PAGE = """
query Page($first: Int, $after: String, $last: Int, $before: String, $orderBy: PostOrder!) {
  posts(first: $first, after: $after, last: $last, before: $before, orderBy: $orderBy) {
    totalCount
    edges { node { slug status } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}
"""


async def post_at(
    slug: str, *, author: Author, hours: float, draft: bool = False, created_hours: float = 0
) -> Post:
    post = await make_post(
        slug=slug,
        author=author,
        status=PostStatus.DRAFT if draft else PostStatus.PUBLISHED,
        published_at=None if draft else BASE_TIME + timedelta(hours=hours),
    )
    # Creation times are the drafts' place in the list; pin them rather than use the clock.
    created = BASE_TIME + timedelta(hours=created_hours if created_hours else hours)
    await Post.filter(id=post.id).update(created_at=created)
    return post


async def mixed_posts() -> tuple[Author, Author]:
    """Published p1..p3 at hours 1..3; drafts d15 and d25 between them, and d2 tied with p2."""
    mine, theirs = await make_author(), await make_author()
    await post_at("p1", author=theirs, hours=1)
    await post_at("p2", author=theirs, hours=2)
    await post_at("p3", author=mine, hours=3)
    await post_at("d15", author=mine, hours=0, created_hours=1.5, draft=True)
    await post_at("d25", author=theirs, hours=0, created_hours=2.5, draft=True)
    await post_at("d2", author=mine, hours=0, created_hours=2, draft=True)
    # Published in the future: only draft readers see it, and it sorts by that future date.
    await post_at("future", author=theirs, hours=24 * 3650)
    return mine, theirs


async def walk(
    graphql: GraphQLRunner, headers: dict[str, str], *, order: str, backwards: bool = False
) -> list[str]:
    """Every slug of the list, two at a time, forwards (or backwards, from the end)."""
    slugs: list[str] = []
    cursor = None
    while True:
        if backwards:
            variables: dict[str, Any] = {"last": 2, "before": cursor, "orderBy": order}
        else:
            variables = {"first": 2, "after": cursor, "orderBy": order}
        body = await graphql(PAGE, variables, headers=headers)
        assert "errors" not in body, body
        page = body["data"]["posts"]
        found = [edge["node"]["slug"] for edge in page["edges"]]
        slugs = found + slugs if backwards else slugs + found
        info = page["pageInfo"]
        if not (info["hasPreviousPage"] if backwards else info["hasNextPage"]):
            return slugs
        cursor = info["startCursor"] if backwards else info["endCursor"]


NEWEST_FIRST = ["future", "p3", "d25", "d2", "p2", "d15", "p1"]


@pytest.mark.parametrize(
    ("order", "backwards", "expected"),
    [
        pytest.param("PUBLISHED_AT_DESC", False, NEWEST_FIRST, id="newest-first"),
        pytest.param("PUBLISHED_AT_DESC", True, NEWEST_FIRST, id="newest-first-backwards"),
        pytest.param("PUBLISHED_AT_ASC", False, NEWEST_FIRST[::-1], id="oldest-first"),
        pytest.param("PUBLISHED_AT_ASC", True, NEWEST_FIRST[::-1], id="oldest-first-backwards"),
    ],
)
async def test_an_editor_pages_through_drafts_and_published_posts_without_gaps(
    graphql: GraphQLRunner, sign_in: SignIn, order: str, backwards: bool, expected: list[str]
) -> None:
    await mixed_posts()
    editor = await sign_in(Role.EDITOR)
    # "d2" and "p2" share a time; the id breaks the tie (d2 was created later: higher id first).
    assert await walk(graphql, editor.headers, order=order, backwards=backwards) == expected


async def test_an_author_sees_their_own_drafts_but_not_other_peoples(
    graphql: GraphQLRunner, sign_in: SignIn
) -> None:
    mine, _ = await mixed_posts()
    session = await sign_in(author=mine)
    assert await walk(graphql, session.headers, order="PUBLISHED_AT_DESC") == [
        "p3",
        "d2",
        "p2",
        "d15",
        "p1",
    ]


async def test_anonymous_readers_still_see_published_posts_only(graphql: GraphQLRunner) -> None:
    await mixed_posts()
    assert await walk(graphql, {}, order="PUBLISHED_AT_DESC") == ["p3", "p2", "p1"]


async def test_a_cursor_from_the_public_list_works_in_the_editors_list(
    graphql: GraphQLRunner, sign_in: SignIn
) -> None:
    await mixed_posts()
    editor = await sign_in(Role.EDITOR)
    public = await graphql(PAGE, {"first": 1, "orderBy": "PUBLISHED_AT_DESC"})
    cursor = public["data"]["posts"]["pageInfo"]["endCursor"]  # after "p3"
    body = await graphql(
        PAGE,
        {"first": 10, "after": cursor, "orderBy": "PUBLISHED_AT_DESC"},
        headers=editor.headers,
    )
    assert [e["node"]["slug"] for e in body["data"]["posts"]["edges"]] == NEWEST_FIRST[2:]


OWN_DRAFT_PATHS = """
query Paths($postId: ID!, $sectionId: ID!) {
  post: node(id: $postId) { id }
  section: node(id: $sectionId) { id }
  tag(slug: "news") { postCount posts { totalCount } }
}
"""


@pytest.mark.parametrize(
    ("reader", "visible"),
    [
        pytest.param("anonymous", False, id="anonymous"),
        pytest.param("its-author", True, id="its-author"),
        pytest.param("another-author", False, id="another-author"),
        pytest.param("editor", True, id="editor"),
    ],
)
async def test_a_draft_is_readable_through_every_path_by_exactly_its_readers(
    graphql: GraphQLRunner, sign_in: SignIn, reader: str, visible: bool
) -> None:
    author = await make_author(role=Role.AUTHOR)
    draft = await make_post(
        author=author, tags=(await make_tag("News"),), status=PostStatus.DRAFT, published_at=None
    )
    section = await Section.get(post=draft)
    headers = {
        "anonymous": {},
        "its-author": (await sign_in(author=author)).headers,
        "another-author": (await sign_in(Role.AUTHOR)).headers,
        "editor": (await sign_in(Role.EDITOR)).headers,
    }[reader]
    body = await graphql(
        OWN_DRAFT_PATHS,
        {
            "postId": to_global_id("Post", draft.id),
            "sectionId": to_global_id("Section", section.id),
        },
        headers=headers,
    )
    assert "errors" not in body, body
    data = body["data"]
    assert (data["post"] is not None, data["section"] is not None) == (visible, visible)
    assert data["tag"] == {"postCount": int(visible), "posts": {"totalCount": int(visible)}}
