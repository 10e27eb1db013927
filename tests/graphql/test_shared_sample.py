"""The shared sample export, imported and read back through the public API."""

from __future__ import annotations

import pytest

from cms.content.importer import import_plaintext
from cms.content.plaintext import parse_plaintext
from tests.conftest import SHARED_CONTENT, GraphQLRunner

SAMPLE = SHARED_CONTENT / "nosql-posts.txt"
pytestmark = pytest.mark.skipif(not SAMPLE.exists(), reason="needs ../shared/content")

TAG_POSTS = """
{
  tag(slug: "nosql") {
    name
    posts(first: 10) {
      totalCount
      edges { node { title sections { heading anchor body } } }
    }
  }
}
"""


async def import_sample() -> None:
    await import_plaintext(parse_plaintext(SAMPLE.read_text(encoding="utf-8")), author_slug=None)


async def test_the_sample_reads_back_in_file_order_with_every_section(
    graphql: GraphQLRunner,
) -> None:
    await import_sample()
    body = await graphql(TAG_POSTS)
    assert "errors" not in body, body
    tag = body["data"]["tag"]
    assert tag["name"] == "Nosql"
    assert tag["posts"]["totalCount"] == 5
    posts = [edge["node"] for edge in tag["posts"]["edges"]]
    assert [post["title"] for post in posts] == [
        "Rethinking Streaming Pipelines for the Modern Solo Developer",
        "GraphQL Schemas vs React: Which Is Right for You?",
        "Rethinking Trunk-Based Development for the Modern Technical Lead",
        "The Data Engineer Perspective on CLI Development Governance",
        "The No-BS Playbook for Shipping Service Mesh Fast",
    ]
    assert sum(len(post["sections"]) for post in posts) == 18
    assert [s["heading"] for s in posts[0]["sections"]] == [
        None,
        "Data Integrity",
        "Measuring the Impact",
        "Tooling Choices",
    ]
    assert posts[0]["sections"][0]["body"].startswith("We built a custom dashboard")
    # Tooling Choices twice, Data Integrity twice: anchors stay unique within the post.
    assert [s["anchor"] for s in posts[4]["sections"]] == [
        "intro",
        "tooling-choices",
        "tooling-choices-2",
        "data-integrity",
        "incident-post-mortem",
        "data-integrity-2",
    ]


async def test_importing_the_sample_twice_changes_nothing_visible(
    graphql: GraphQLRunner,
) -> None:
    await import_sample()
    before = await graphql(TAG_POSTS)
    await import_sample()
    assert await graphql(TAG_POSTS) == before
