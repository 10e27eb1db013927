"""Anonymous readers see live posts only, through every path that can reach a post."""

from __future__ import annotations

from datetime import timedelta

import pytest

from cms.graphql.node import to_global_id
from cms.models import Post, PostStatus, Section
from tests.conftest import GraphQLRunner
from tests.factories import make_author, make_post, make_tag, minutes_ago

EVERY_PATH = """
query Everything($postId: ID!, $sectionId: ID!) {
  posts(first: 100) { totalCount edges { node { slug } } }
  filtered: posts(filter: {tag: "news", author: "ada"}) { totalCount edges { node { slug } } }
  tag(slug: "news") { postCount posts { totalCount edges { node { slug } } } }
  tags { edges { node { slug postCount posts { edges { node { slug } } } } } }
  author(slug: "ada") { posts { totalCount edges { node { slug } } } }
  authors { edges { node { posts { edges { node { slug } } } } } }
  post: node(id: $postId) { id }
  section: node(id: $sectionId) { id }
}
"""

HIDDEN = [
    pytest.param({"status": PostStatus.DRAFT, "published_at": None}, id="draft"),
    pytest.param({"status": PostStatus.DRAFT, "published_at": minutes_ago(60)}, id="draft-dated"),
    pytest.param({"status": PostStatus.ARCHIVED, "published_at": minutes_ago(60)}, id="archived"),
    pytest.param(
        {"status": PostStatus.SCHEDULED, "published_at": minutes_ago(-60)}, id="scheduled-future"
    ),
    pytest.param(
        {"status": PostStatus.PUBLISHED, "published_at": minutes_ago(-60)}, id="published-future"
    ),
    pytest.param(
        {
            "status": PostStatus.PUBLISHED,
            "published_at": minutes_ago(60),
            "deleted_at": minutes_ago(1),
        },
        id="trashed",
    ),
]


@pytest.mark.parametrize("state", HIDDEN)
async def test_hidden_posts_are_invisible_to_anonymous_readers_everywhere(
    graphql: GraphQLRunner, state: dict
) -> None:
    ada = await make_author(slug="ada")
    news = await make_tag("News")
    await make_post(slug="live", author=ada, tags=(news,), published_at=minutes_ago(5))
    hidden = await make_post(slug="hidden", author=ada, tags=(news,), **state)
    section = await Section.get(post=hidden)

    body = await graphql(
        EVERY_PATH,
        {
            "postId": to_global_id("Post", hidden.id),
            "sectionId": to_global_id("Section", section.id),
        },
    )

    assert "errors" not in body, body
    assert "hidden" not in str(body["data"])
    data = body["data"]
    assert data["posts"]["totalCount"] == 1
    assert data["filtered"]["totalCount"] == 1
    assert data["tag"]["postCount"] == 1
    assert data["tag"]["posts"]["totalCount"] == 1
    assert data["author"]["posts"]["totalCount"] == 1
    assert data["post"] is None
    assert data["section"] is None


async def test_a_scheduled_post_appears_once_its_time_has_passed(graphql: GraphQLRunner) -> None:
    post = await make_post(slug="soon", status=PostStatus.SCHEDULED, published_at=minutes_ago(-1))
    query = '{ post(slug: "soon") { slug } }'
    assert (await graphql(query))["data"]["post"] is None
    # No cron job: moving the time into the past is all it takes.
    await Post.filter(id=post.id).update(published_at=minutes_ago(0) - timedelta(seconds=1))
    assert (await graphql(query))["data"]["post"] == {"slug": "soon"}
