"""Section edits keep positions contiguous and anchors unique, and each bumps the post."""

from __future__ import annotations

import pytest

from cms.errors import InvalidInput, NotFound, ValidationFailed, VersionConflict
from cms.models import Post, Revision, Role, Section
from cms.services import sections
from cms.services.snapshots import load_snapshot
from cms.services.validation import SectionInput
from tests.factories import make_post
from tests.services.helpers import viewer_for


async def layout(post: Post) -> list[tuple[int, str | None, str]]:
    rows = await Section.filter(post_id=post.id).order_by("position")
    return [(row.position, row.heading, row.anchor) for row in rows]


async def a_post_with_three_sections() -> tuple[object, Post]:
    viewer, author = await viewer_for(Role.AUTHOR)
    post = await make_post(author=author, sections=((None, "i"), ("Setup", "s"), ("Use", "u")))
    return viewer, post


async def test_add_section_appends_by_default() -> None:
    viewer, post = await a_post_with_three_sections()
    change = await sections.add_section(
        viewer, post_id=post.id, expected_version=1, section=SectionInput(heading="End", body="e")
    )
    assert change.section is not None
    assert change.section.position == 3
    assert change.post.version == 2
    assert await layout(post) == [
        (0, None, "intro"),
        (1, "Setup", "setup"),
        (2, "Use", "use"),
        (3, "End", "end"),
    ]


async def test_add_section_at_a_position_shifts_the_rest_and_renumbers_anchors() -> None:
    viewer, post = await a_post_with_three_sections()
    await sections.add_section(
        viewer,
        post_id=post.id,
        expected_version=1,
        section=SectionInput(heading="Setup", body="earlier"),
        position=1,
    )
    assert await layout(post) == [
        (0, None, "intro"),
        (1, "Setup", "setup"),
        (2, "Setup", "setup-2"),
        (3, "Use", "use"),
    ]


@pytest.mark.parametrize(
    "position", [pytest.param(-1, id="negative"), pytest.param(4, id="past-end")]
)
async def test_add_section_rejects_positions_outside_the_post(position: int) -> None:
    viewer, post = await a_post_with_three_sections()
    with pytest.raises(InvalidInput):
        await sections.add_section(
            viewer,
            post_id=post.id,
            expected_version=1,
            section=SectionInput(body="x"),
            position=position,
        )
    assert (await Post.get(id=post.id)).version == 1
    assert len(await layout(post)) == 3


async def test_move_section_to_the_front_and_back() -> None:
    viewer, post = await a_post_with_three_sections()
    use = await Section.get(post_id=post.id, heading="Use")
    await sections.move_section(viewer, section_id=use.id, expected_version=1, position=0)
    assert await layout(post) == [(0, "Use", "use"), (1, None, "intro"), (2, "Setup", "setup")]
    await sections.move_section(viewer, section_id=use.id, expected_version=2, position=2)
    assert await layout(post) == [(0, None, "intro"), (1, "Setup", "setup"), (2, "Use", "use")]
    assert (await Post.get(id=post.id)).version == 3


async def test_moving_changes_which_namesake_gets_the_suffix() -> None:
    viewer, author = await viewer_for(Role.AUTHOR)
    post = await make_post(author=author, sections=(("A", "first"), ("A", "second")))
    second = await Section.get(post_id=post.id, body="second")
    await sections.move_section(viewer, section_id=second.id, expected_version=1, position=0)
    rows = await Section.filter(post_id=post.id).order_by("position")
    assert [(row.body, row.anchor) for row in rows] == [("second", "a"), ("first", "a-2")]


async def test_update_section_renames_and_recomputes_anchors() -> None:
    viewer, post = await a_post_with_three_sections()
    use = await Section.get(post_id=post.id, heading="Use")
    change = await sections.update_section(
        viewer, section_id=use.id, expected_version=1, heading="Setup"
    )
    assert change.section is not None
    assert (change.section.heading, change.section.body) == ("Setup", "u")
    assert await layout(post) == [
        (0, None, "intro"),
        (1, "Setup", "setup"),
        (2, "Setup", "setup-2"),
    ]


async def test_update_section_with_an_empty_heading_removes_it() -> None:
    viewer, post = await a_post_with_three_sections()
    use = await Section.get(post_id=post.id, heading="Use")
    await sections.update_section(viewer, section_id=use.id, expected_version=1, heading="")
    assert (await Section.get(id=use.id)).heading is None


async def test_delete_section_closes_the_gap() -> None:
    viewer, post = await a_post_with_three_sections()
    setup = await Section.get(post_id=post.id, heading="Setup")
    change = await sections.delete_section(viewer, section_id=setup.id, expected_version=1)
    assert change.post.version == 2
    assert await layout(post) == [(0, None, "intro"), (1, "Use", "use")]


async def test_every_section_change_records_a_revision() -> None:
    viewer, post = await a_post_with_three_sections()
    use = await Section.get(post_id=post.id, heading="Use")
    await sections.update_section(viewer, section_id=use.id, expected_version=1, body="new")
    await sections.move_section(viewer, section_id=use.id, expected_version=2, position=0)
    revisions = await Revision.filter(post_id=post.id).order_by("version")
    assert [(r.version, r.mutation) for r in revisions] == [
        (2, "updateSection"),
        (3, "moveSection"),
    ]
    assert (await load_snapshot(revisions[-1]))["sections"][0]["body"] == "new"


async def test_a_stale_section_edit_is_a_conflict_and_changes_nothing() -> None:
    viewer, post = await a_post_with_three_sections()
    use = await Section.get(post_id=post.id, heading="Use")
    await sections.update_section(viewer, section_id=use.id, expected_version=1, body="v2")
    with pytest.raises(VersionConflict):
        await sections.move_section(viewer, section_id=use.id, expected_version=1, position=0)
    assert (await Section.get(id=use.id)).position == 2


async def test_an_invalid_section_is_rejected_by_field() -> None:
    viewer, post = await a_post_with_three_sections()
    with pytest.raises(ValidationFailed) as failure:
        await sections.add_section(
            viewer,
            post_id=post.id,
            expected_version=1,
            section=SectionInput(heading="x" * 201, body="\x00"),
        )
    assert [p.field for p in failure.value.problems] == ["section.heading", "section.body"]


async def test_sections_of_trashed_posts_are_not_found() -> None:
    viewer, post = await a_post_with_three_sections()
    await Post.filter(id=post.id).update(deleted_at=post.created_at)
    use = await Section.get(post_id=post.id, heading="Use")
    with pytest.raises(NotFound):
        await sections.delete_section(viewer, section_id=use.id, expected_version=1)
