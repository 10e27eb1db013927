"""Importing parsed plain text: what lands in the database, re-imports, and rollback."""

from __future__ import annotations

from typing import Any

import pytest

from cms.content import importer
from cms.content.importer import import_plaintext, make_excerpt
from cms.content.plaintext import ParsedFile, parse_plaintext, read_demo
from cms.errors import InvalidInput, NotFound
from cms.models import Author, Post, PostStatus, PostTag, Section, Tag
from tests.content.samples import SAMPLE


@pytest.fixture
def sample() -> ParsedFile:
    return parse_plaintext(SAMPLE.read_text(encoding="utf-8"))


async def table_counts() -> dict[str, int]:
    return {
        model.__name__: await model.all().count() for model in (Author, Tag, Post, PostTag, Section)
    }


async def slugs_newest_first() -> list[str]:
    return [post.slug for post in await Post.all().order_by("-published_at", "-id")]


async def snapshot() -> list[tuple[Any, ...]]:
    """Every post with its sections, enough to tell whether anything changed."""
    rows: list[tuple[Any, ...]] = []
    for post in await Post.all().order_by("id"):
        sections = await Section.filter(post_id=post.id).order_by("position")
        rows.append(
            (
                post.id,
                post.slug,
                post.published_at,
                post.version,
                [(s.id, s.position, s.heading, s.anchor, s.body) for s in sections],
            )
        )
    return rows


async def test_importing_the_sample_writes_its_tag_posts_sections_and_links(
    sample: ParsedFile,
) -> None:
    report = await import_plaintext(sample, author_slug=None)

    assert (report.created, report.updated, report.unchanged) == (5, 0, 0)
    assert report.tag_slug == "field-notes"
    assert await table_counts() == {"Author": 1, "Tag": 1, "Post": 5, "PostTag": 5, "Section": 18}
    tag = await Tag.get(slug="field-notes")
    assert tag.name == "Field Notes"


async def test_posts_without_an_author_go_to_the_house_author(sample: ParsedFile) -> None:
    await import_plaintext(sample, author_slug=None)
    house = await Author.get(slug="editorial")
    assert (house.name, house.email) == ("Editorial", "editorial@localhost")
    assert await Post.filter(author_id=house.id).count() == 5


async def test_posts_go_to_the_named_author(sample: ParsedFile) -> None:
    ada = await Author.create(name="Ada", slug="ada", email="ada@example.com")
    await import_plaintext(sample, author_slug="ada")
    assert await Post.filter(author_id=ada.id).count() == 5
    assert not await Author.filter(slug="editorial").exists()


async def test_newest_first_order_is_the_file_order(sample: ParsedFile) -> None:
    await import_plaintext(sample, author_slug=None)
    assert await slugs_newest_first() == [post.slug for post in sample.posts]
    assert await Post.filter(status=PostStatus.PUBLISHED).count() == 5


async def test_sections_keep_position_heading_anchor_and_body(sample: ParsedFile) -> None:
    await import_plaintext(sample, author_slug=None)
    post = await Post.get(slug=sample.posts[4].slug)
    sections = await Section.filter(post_id=post.id).order_by("position")
    assert [(s.position, s.heading, s.anchor) for s in sections] == [
        (0, None, "intro"),
        (1, "Taking It Down", "taking-it-down"),
        (2, "Taking It Down", "taking-it-down-2"),
        (3, "Building the Batter", "building-the-batter"),
        (4, "Hearting", "hearting"),
        (5, "Building the Batter", "building-the-batter-2"),
    ]
    assert [s.body for s in sections] == [s.body for s in sample.posts[4].sections]


async def test_excerpt_is_the_first_paragraph_of_the_intro(sample: ParsedFile) -> None:
    await import_plaintext(sample, author_slug=None)
    post = await Post.get(slug=sample.posts[1].slug)
    assert post.excerpt == sample.posts[1].sections[0].body.split("\n\n")[0]


async def test_reimporting_the_same_file_changes_nothing(sample: ParsedFile) -> None:
    await import_plaintext(sample, author_slug=None)
    before, counts = await snapshot(), await table_counts()

    report = await import_plaintext(sample, author_slug=None)

    assert (report.created, report.updated, report.unchanged) == (0, 0, 5)
    assert await table_counts() == counts
    assert await snapshot() == before


async def test_reimporting_an_edited_file_updates_posts_in_place(sample: ParsedFile) -> None:
    await import_plaintext(sample, author_slug=None)
    first = await Post.get(slug=sample.posts[0].slug)
    edited_text = SAMPLE.read_text(encoding="utf-8").replace(
        "    Watering on a Schedule\n", "    Watering by Weight\n"
    )

    report = await import_plaintext(parse_plaintext(edited_text), author_slug=None)

    assert (report.created, report.updated, report.unchanged) == (0, 1, 4)
    updated = await Post.get(id=first.id)
    assert (updated.version, updated.published_at) == (2, first.published_at)
    sections = await Section.filter(post_id=first.id).order_by("position")
    assert [section.heading for section in sections] == [
        None,
        "Light Before Everything",
        "Watering by Weight",
        "Pests Come Along",
    ]
    assert await Section.all().count() == 18


async def test_reimporting_relinks_a_post_that_lost_its_tag(sample: ParsedFile) -> None:
    await import_plaintext(sample, author_slug=None)
    post = await Post.get(slug=sample.posts[2].slug)
    await PostTag.filter(post_id=post.id).delete()

    report = await import_plaintext(sample, author_slug=None)

    assert report.updated == 1
    assert await PostTag.filter(post_id=post.id).count() == 1


async def test_importing_as_draft_leaves_posts_unpublished(sample: ParsedFile) -> None:
    await import_plaintext(sample, author_slug=None, status=PostStatus.DRAFT)
    assert await Post.filter(status=PostStatus.DRAFT, published_at__isnull=True).count() == 5


async def test_reimporting_as_draft_unpublishes_then_publishing_again_redates(
    sample: ParsedFile,
) -> None:
    await import_plaintext(sample, author_slug=None)
    report = await import_plaintext(sample, author_slug=None, status=PostStatus.DRAFT)
    assert report.updated == 5
    assert await Post.filter(published_at__isnull=True).count() == 5

    await import_plaintext(sample, author_slug=None)
    assert await Post.filter(published_at__isnull=True).count() == 0


@pytest.mark.parametrize(
    "status",
    [
        pytest.param(PostStatus.SCHEDULED, id="scheduled"),
        pytest.param(PostStatus.ARCHIVED, id="archived"),
    ],
)
async def test_import_refuses_statuses_without_a_date_rule(
    sample: ParsedFile, status: PostStatus
) -> None:
    with pytest.raises(InvalidInput, match="PUBLISHED or DRAFT"):
        await import_plaintext(sample, author_slug=None, status=status)


async def test_unknown_author_fails_and_writes_nothing(sample: ParsedFile) -> None:
    with pytest.raises(NotFound, match="'nobody'"):
        await import_plaintext(sample, author_slug="nobody")
    assert await table_counts() == dict.fromkeys(("Author", "Tag", "Post", "PostTag", "Section"), 0)


async def test_failure_while_writing_sections_rolls_back_the_whole_file(
    sample: ParsedFile, monkeypatch: pytest.MonkeyPatch
) -> None:
    await Author.create(name="Ada", slug="ada", email="ada@example.com")
    before = await table_counts()

    def explode(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(Section, "bulk_create", explode)
    with pytest.raises(RuntimeError, match="disk full"):
        await import_plaintext(sample, author_slug=None)

    assert await table_counts() == before


async def test_large_files_are_written_in_batches_with_progress(
    sample: ParsedFile, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(importer, "BATCH_SIZE", 2)
    calls: list[tuple[int, int]] = []

    await import_plaintext(sample, author_slug=None, progress=lambda *call: calls.append(call))

    assert calls == [(2, 5), (4, 5), (5, 5)]
    assert await table_counts() == {"Author": 1, "Tag": 1, "Post": 5, "PostTag": 5, "Section": 18}
    assert await slugs_newest_first() == [post.slug for post in sample.posts]


async def test_bundled_demo_content_imports_twice_without_duplicates() -> None:
    demo = parse_plaintext(read_demo())
    await import_plaintext(demo, author_slug=None)
    report = await import_plaintext(demo, author_slug=None)
    assert report.unchanged == len(demo.posts)
    assert await Post.all().count() == len(demo.posts)


@pytest.mark.parametrize(
    ("bodies", "expected"),
    [
        pytest.param([], "", id="no-sections"),
        pytest.param(["One.\n\nTwo."], "One.", id="first-paragraph-only"),
        pytest.param(["Some **bold** and `code`."], "Some bold and code.", id="markup-removed"),
        pytest.param(["word " * 100], "word " * 59 + "word\u2026", id="cut-on-a-word"),
    ],
)
def test_excerpt(bodies: list[str], expected: str) -> None:
    excerpt = make_excerpt(bodies)
    assert excerpt == expected
    assert len(excerpt) <= 300
