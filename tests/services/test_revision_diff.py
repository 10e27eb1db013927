"""Diffing two snapshots: fields, and sections added, removed, moved and edited."""

from __future__ import annotations

from typing import Any

from cms.services.revision_diff import SectionChangeKind, diff_snapshots, match_sections


def section(heading: str | None, body: str, anchor: str | None = None) -> dict[str, Any]:
    return {"heading": heading, "anchor": anchor or (heading or "intro").lower(), "body": body}


def snapshot(*sections: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {
        "title": "T",
        "slug": "t",
        "excerpt": "",
        "status": "DRAFT",
        "published_at": None,
        "author_id": 1,
        "tags": ["news"],
        "tag_ids": [1],
        "sections": list(sections),
        **fields,
    }


INTRO = section(None, "Intro.")
SETUP = section("Setup", "Install it.\nThen run it.")
USAGE = section("Usage", "Call it.")


def kinds(old: dict[str, Any], new: dict[str, Any]) -> list[tuple[str, str, bool]]:
    return [(c.kind.value, c.anchor, c.moved) for c in diff_snapshots(old, new).sections]


def test_identical_snapshots_have_no_changes() -> None:
    assert diff_snapshots(snapshot(INTRO, SETUP), snapshot(INTRO, SETUP)).is_empty


def test_changed_fields_are_listed_with_old_and_new_values() -> None:
    diff = diff_snapshots(snapshot(title="Old", tags=["a"]), snapshot(title="New", tags=["a", "b"]))

    assert [(f.field, f.old, f.new) for f in diff.fields] == [
        ("title", "Old", "New"),
        ("tags", "a", "a, b"),
    ]


def test_added_and_removed_sections_are_reported_in_reading_order() -> None:
    assert kinds(snapshot(INTRO, SETUP), snapshot(INTRO, USAGE)) == [
        ("REMOVED", "setup", False),
        ("ADDED", "usage", False),
    ]


def test_a_section_that_changed_place_is_moved_and_the_others_are_not() -> None:
    # Moving USAGE first shifts every other section, but only USAGE moved.
    assert kinds(snapshot(INTRO, SETUP, USAGE), snapshot(USAGE, INTRO, SETUP)) == [
        ("MOVED", "usage", True)
    ]


def test_removing_a_section_does_not_make_the_later_ones_moved() -> None:
    assert kinds(snapshot(INTRO, SETUP, USAGE), snapshot(INTRO, USAGE)) == [
        ("REMOVED", "setup", False)
    ]


def test_an_edited_body_under_the_same_heading_has_a_unified_diff() -> None:
    edited = section("Setup", "Install it.\nThen start it.")

    diff = diff_snapshots(
        snapshot(INTRO, SETUP), snapshot(INTRO, edited), old_label="v1", new_label="v2"
    )

    (change,) = diff.sections
    assert change.kind is SectionChangeKind.EDITED
    assert change.diff == (
        "--- v1#setup\n+++ v2#setup\n@@ -1,2 +1,2 @@\n"
        " Install it.\n-Then run it.\n+Then start it.\n"
    )


def test_a_renamed_section_with_similar_text_is_edited_not_replaced() -> None:
    renamed = section("Installation", "Install it.\nThen run it!")

    (change,) = diff_snapshots(snapshot(SETUP, USAGE), snapshot(renamed, USAGE)).sections

    assert (change.kind, change.old_heading, change.new_heading) == (
        SectionChangeKind.EDITED,
        "Setup",
        "Installation",
    )


def test_a_heading_change_alone_is_an_edit_without_a_text_diff() -> None:
    renamed = section("Getting started", SETUP["body"])

    (change,) = diff_snapshots(snapshot(INTRO, SETUP), snapshot(INTRO, renamed)).sections

    assert change.kind is SectionChangeKind.EDITED
    assert change.diff is None


def test_a_moved_and_edited_section_is_edited_and_says_it_moved() -> None:
    edited = section("Setup", "Install it.\nThen run it twice.")

    assert kinds(snapshot(INTRO, SETUP, USAGE), snapshot(edited, INTRO, USAGE)) == [
        ("EDITED", "setup", True)
    ]


def test_repeated_headings_are_matched_by_their_numbered_anchors() -> None:
    first = section("Step", "One.", "step")
    second = section("Step", "Two.", "step-2")
    second_edited = section("Step", "Two, edited.", "step-2")

    assert kinds(snapshot(first, second), snapshot(first, second_edited)) == [
        ("EDITED", "step-2", False)
    ]


def test_sections_with_ids_are_matched_by_id() -> None:
    old = [{"id": 1, **section("A", "x")}, {"id": 2, **section("B", "y")}]
    new = [{"id": 2, **section("A", "x")}, {"id": 1, **section("B", "y")}]

    assert sorted(match_sections(old, new)) == [(0, 1), (1, 0)]
