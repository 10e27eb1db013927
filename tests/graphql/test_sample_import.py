"""The sample export, imported and read back through the public API."""

from __future__ import annotations

from cms.content.importer import import_plaintext
from cms.content.plaintext import parse_plaintext
from tests.conftest import GraphQLRunner
from tests.content.samples import SAMPLE

TAG_POSTS = """
{
  tag(slug: "field-notes") {
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
    assert tag["name"] == "Field Notes"
    assert tag["posts"]["totalCount"] == 5
    posts = [edge["node"] for edge in tag["posts"]["edges"]]
    assert [post["title"] for post in posts] == [
        "Moving a Kitchen Garden Indoors for the Winter",
        "Three Ways to Store Onions, Compared",
        "Sharpening a Hand Saw Without Special Tools",
        "Notes From a Year of Keeping Bees",
        "A Weekend Rebuilding a Dry-Stone Wall",
    ]
    assert sum(len(post["sections"]) for post in posts) == 18
    assert [s["heading"] for s in posts[0]["sections"]] == [
        None,
        "Light Before Everything",
        "Watering on a Schedule",
        "Pests Come Along",
    ]
    assert posts[0]["sections"][0]["body"].startswith("Every autumn the same question")
    # Two headings appear twice each: anchors stay unique within the post.
    assert [s["anchor"] for s in posts[4]["sections"]] == [
        "intro",
        "taking-it-down",
        "taking-it-down-2",
        "building-the-batter",
        "hearting",
        "building-the-batter-2",
    ]


async def test_importing_the_sample_twice_changes_nothing_visible(
    graphql: GraphQLRunner,
) -> None:
    await import_sample()
    before = await graphql(TAG_POSTS)
    await import_sample()
    assert await graphql(TAG_POSTS) == before
