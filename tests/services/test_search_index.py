"""The search index follows every write, whoever makes it, inside the writer's transaction."""

from __future__ import annotations

import pytest
from tortoise.transactions import in_transaction

from cms.content.generate import generate_content
from cms.content.importer import import_plaintext
from cms.content.plaintext import parse_plaintext
from cms.models import Post, Role, Section
from cms.services import authoring, sections
from cms.services.authoring import PostChanges
from cms.services.posts import PostCriteria
from cms.services.search import search_posts
from cms.services.validation import SectionInput
from cms.services.visibility import Visibility
from tests.content.samples import SAMPLE
from tests.factories import make_post
from tests.services.helpers import viewer_for


async def found(query: str, *, editor: bool = False) -> list[str]:
    """The slugs a search finds, best first."""
    visibility = Visibility(now=Visibility.anonymous().now, any_drafts=editor)
    results = await search_posts(
        visibility,
        query=query,
        criteria=PostCriteria(),
        first=100,
        after=None,
        default_size=20,
        max_size=100,
    )
    return [hit.post.slug for hit in results.hits]


async def test_new_sections_are_searchable_at_once() -> None:
    post = await make_post(slug="p", sections=((None, "Intro."),))
    await Section.create(post=post, position=1, heading="Lighthouses", anchor="x", body="Beams.")

    assert await found("lighthouses") == ["p"]
    assert await found("beams") == ["p"]


async def test_edited_titles_excerpts_and_sections_replace_their_old_words() -> None:
    post = await make_post(slug="p", title="Old title", sections=((None, "Old body."),))
    post.title, post.excerpt = "Fresh heading", "A shiny excerpt"
    await post.save()
    await Section.filter(post=post).update(body="Renewed body.")

    assert await found("old") == []
    assert await found("fresh shiny renewed") == ["p"]


async def test_deleted_sections_and_posts_leave_the_index() -> None:
    post = await make_post(slug="p", sections=((None, "Intro."), ("Gone", "Vanishing text.")))
    await Section.filter(post=post, position=1).delete()
    assert await found("vanishing") == []

    await post.delete()
    assert await found("intro") == []


async def test_a_rolled_back_write_leaves_the_index_as_it_was() -> None:
    post = await make_post(slug="p", title="Stable")

    async def write_then_fail() -> None:
        async with in_transaction():
            await Post.filter(id=post.id).update(title="Ephemeral")
            await Section.create(post_id=post.id, position=5, anchor="a", body="Ghost")
            raise RuntimeError("roll back")

    with pytest.raises(RuntimeError):
        await write_then_fail()

    assert await found("stable") == ["p"]
    assert await found("ephemeral") == []
    assert await found("ghost") == []


async def test_mutations_keep_the_index_in_step() -> None:
    viewer, _ = await viewer_for(Role.EDITOR)
    post = await authoring.create_post(
        viewer, title="Tidepools", sections=[SectionInput(body="Anemones live here.")]
    )
    assert await found("anemones", editor=True) == [post.slug]

    post = await authoring.update_post(
        viewer,
        post_id=post.id,
        expected_version=post.version,
        changes=PostChanges(sections=[SectionInput(heading="Crabs", body="Sideways walkers.")]),
    )
    assert await found("anemones", editor=True) == []
    assert await found("crabs walkers", editor=True) == [post.slug]

    added = await sections.add_section(
        viewer,
        post_id=post.id,
        expected_version=post.version,
        section=SectionInput(heading="Starfish", body="Five arms."),
        position=0,
    )
    assert added.section is not None
    assert await found("starfish", editor=True) == [post.slug]

    removed = await sections.delete_section(
        viewer, section_id=added.section.id, expected_version=added.post.version
    )
    assert await found("starfish", editor=True) == []
    assert await found("crabs", editor=True) == [removed.post.slug]


async def test_imported_posts_are_searchable_and_reimports_update_them() -> None:
    parsed = parse_plaintext(SAMPLE.read_text(encoding="utf-8"))
    await import_plaintext(parsed, author_slug=None)

    hits = await found("onions")
    assert hits[0] == "three-ways-to-store-onions-compared"

    edited = SAMPLE.read_text(encoding="utf-8").replace("Store Onions", "Store Zeppelins")
    await import_plaintext(parse_plaintext(edited), author_slug=None)
    assert await found("zeppelins") == ["three-ways-to-store-zeppelins-compared"]


async def test_generated_content_is_indexed_in_bulk() -> None:
    await generate_content(posts=40, tags=3, authors=2, sections=3, seed=7)
    first = await Post.filter(status="PUBLISHED").order_by("id").first()
    assert first is not None
    title_word = max(first.title.split(), key=len)

    assert first.slug in await found(title_word)
