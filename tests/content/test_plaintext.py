"""The plain-text parser: our sample, the shared one when present, the heading rule, and every
malformed case."""

from __future__ import annotations

import pytest

from cms.content.plaintext import (
    ParsedFile,
    PlainTextError,
    is_heading,
    parse_plaintext,
    read_demo,
)
from cms.errors import InvalidInput
from cms.rendering.markdown import assign_anchors
from tests.content.samples import SAMPLE, SHARED_SAMPLE, needs_shared_sample

SAMPLE_HEADINGS = [
    [None, "Light Before Everything", "Watering on a Schedule", "Pests Come Along"],
    [None, "What We Measured"],
    [None, "Setting the Teeth", "Filing Each Tooth"],
    [None, "The First Inspection", "Swarm Season"],
    [
        None,
        "Taking It Down",
        "Taking It Down",
        "Building the Batter",
        "Hearting",
        "Building the Batter",
    ],
]
SHARED_SAMPLE_HEADINGS = [
    [None, "Data Integrity", "Measuring the Impact", "Tooling Choices"],
    [None, "Implementation Details"],
    [None, "Tooling Choices", "Incident Post-Mortem"],
    [None, "Cultural Shift", "What Changed"],
    [
        None,
        "Tooling Choices",
        "Tooling Choices",
        "Data Integrity",
        "Incident Post-Mortem",
        "Data Integrity",
    ],
]

SMALL = """\
Tag: Release Notes

  • Version Two

    The intro paragraph.

    What changed

    First paragraph under the heading.

    Second paragraph under the heading.
"""


@pytest.fixture(scope="module")
def sample() -> ParsedFile:
    return parse_plaintext(SAMPLE.read_text(encoding="utf-8"))


def problems_of(text: str) -> list[tuple[int, str]]:
    with pytest.raises(PlainTextError) as caught:
        parse_plaintext(text)
    return [(problem.line, problem.message) for problem in caught.value.problems]


def test_sample_has_one_tag_five_posts_and_eighteen_sections(sample: ParsedFile) -> None:
    assert (sample.tag_name, sample.tag_slug) == ("Field Notes", "field-notes")
    assert len(sample.posts) == 5
    assert sum(len(post.sections) for post in sample.posts) == 18


def test_sample_headings_come_in_file_order(sample: ParsedFile) -> None:
    headings = [[section.heading for section in post.sections] for post in sample.posts]
    assert headings == SAMPLE_HEADINGS


def test_sample_posts_know_their_titles_slugs_and_lines(sample: ParsedFile) -> None:
    second = sample.posts[1]
    assert second.title == "Three Ways to Store Onions, Compared"
    assert second.slug == "three-ways-to-store-onions-compared"
    assert second.line == 22
    assert [section.line for section in second.sections] == [24, 26]


def test_repeated_headings_get_numbered_anchors(sample: ParsedFile) -> None:
    anchors = assign_anchors(section.heading for section in sample.posts[4].sections)
    assert anchors == [
        "intro",
        "taking-it-down",
        "taking-it-down-2",
        "building-the-batter",
        "hearting",
        "building-the-batter-2",
    ]


def test_blank_runs_and_a_whitespace_only_last_line_add_nothing(sample: ParsedFile) -> None:
    text = SAMPLE.read_text(encoding="utf-8")
    assert text.endswith("\n\n\n   \n\n")
    assert parse_plaintext(text.rstrip() + "\n") == sample
    first_intro = sample.posts[0].sections[0].body
    assert "\n\n\n" not in first_intro
    assert not first_intro.endswith("\n")


@needs_shared_sample
def test_shared_sample_has_one_tag_five_posts_and_eighteen_sections() -> None:
    shared = parse_plaintext(SHARED_SAMPLE.read_text(encoding="utf-8"))
    assert (shared.tag_name, shared.tag_slug) == ("Nosql", "nosql")
    assert [[section.heading for section in post.sections] for post in shared.posts] == (
        SHARED_SAMPLE_HEADINGS
    )


@needs_shared_sample
def test_shared_sample_parses_the_same_from_crlf() -> None:
    text = SHARED_SAMPLE.read_text(encoding="utf-8")
    assert parse_plaintext(text.replace("\n", "\r\n")) == parse_plaintext(text)


def test_section_body_is_its_paragraphs_joined_by_a_blank_line() -> None:
    post = parse_plaintext(SMALL).posts[0]
    assert [(s.heading, s.body) for s in post.sections] == [
        (None, "The intro paragraph."),
        (
            "What changed",
            "First paragraph under the heading.\n\nSecond paragraph under the heading.",
        ),
    ]


def test_crlf_input_parses_like_lf_input(sample: ParsedFile) -> None:
    text = SAMPLE.read_text(encoding="utf-8").replace("\n", "\r\n")
    assert parse_plaintext(text) == sample


def test_a_byte_order_mark_is_ignored() -> None:
    assert parse_plaintext("\ufeff" + SMALL) == parse_plaintext(SMALL)


@pytest.mark.parametrize(
    "bullet_line",
    [
        pytest.param("  •   Version Two   ", id="spaces-around-title"),
        pytest.param("•Version Two", id="no-space-after-bullet"),
        pytest.param("\t• Version Two", id="tab-indent"),
    ],
)
def test_bullet_spacing_does_not_change_the_title(bullet_line: str) -> None:
    text = SMALL.replace("  • Version Two", bullet_line)
    assert parse_plaintext(text).posts[0].title == "Version Two"


def test_wrapped_paragraph_lines_stay_one_paragraph_and_lose_their_indent() -> None:
    text = "Tag: T\n\n  • P\n\n    A paragraph that\n    wraps onto a second line.\n"
    section = parse_plaintext(text).posts[0].sections[0]
    assert (section.heading, section.body) == (None, "A paragraph that\nwraps onto a second line.")


def test_a_post_may_start_with_a_heading_and_have_no_intro() -> None:
    text = "Tag: T\n\n  • P\n\n    Setup\n\n    Install it first.\n"
    assert [s.heading for s in parse_plaintext(text).posts[0].sections] == ["Setup"]


def test_fenced_code_keeps_its_blank_lines_bullets_and_short_lines() -> None:
    text = (
        "Tag: T\n\n  • P\n\n    An example follows.\n\n"
        "    ```text\n    • not a post\n\n    short line\n    ```\n\n    Done.\n"
    )
    [post] = parse_plaintext(text).posts
    assert post.sections[0].body == (
        "An example follows.\n\n```text\n• not a post\n\nshort line\n```\n\nDone."
    )


@pytest.mark.parametrize(
    ("paragraph", "expected"),
    [
        pytest.param("Tooling Choices", True, id="short-title-case"),
        pytest.param("What we learned about caching", True, id="short-sentence-case"),
        pytest.param("It works.", False, id="full-stop"),
        pytest.param("Why now?", False, id="question-mark"),
        pytest.param("As follows:", False, id="colon"),
        pytest.param("He said \u201cno\u201d", False, id="closing-curly-quote"),
        pytest.param("And then\u2026", False, id="ellipsis"),
        pytest.param("one two three four five six seven eight", True, id="eight-words"),
        pytest.param("one two three four five six seven eight nine", False, id="nine-words"),
        pytest.param("x" * 81, False, id="longer-than-80-chars"),
        pytest.param("- a list item", False, id="list-item"),
        pytest.param("1. a numbered item", False, id="numbered-item"),
        pytest.param("> a quote", False, id="block-quote"),
        pytest.param("Two\nlines", False, id="two-lines"),
    ],
)
def test_heading_rule(paragraph: str, expected: bool) -> None:
    assert is_heading(paragraph) is expected


@pytest.mark.parametrize(
    ("text", "lines", "fragment"),
    [
        pytest.param("", [1], "empty", id="empty-file"),
        pytest.param("\n  \n\n", [1], "empty", id="blank-file"),
        pytest.param("  • P\n\n    Text.\n", [1], "missing the 'Tag: Name'", id="no-tag-line"),
        pytest.param("Tag: A\nTag: B\n  • P\n\n    Text.\n", [2], "second Tag", id="two-tags"),
        pytest.param("Tag: A\n\n  • P\n\n    Text.\nTag: B\n", [6], "second Tag", id="late-tag"),
        pytest.param("Tag: !!\n  • P\n\n    Text.\n", [1], "no letters", id="tag-without-letters"),
        pytest.param("Tag: A\n", [1], "no posts", id="no-posts"),
        pytest.param(
            "Tag: A\n\n    Stray text.\n\n  • P\n\n    Text.\n", [3], "before the first post",
            id="text-before-first-post",
        ),
        pytest.param(
            "Tag: A\n\n  • P\n\n  • Q\n\n    Text.\n", [3], "no paragraphs", id="empty-post"
        ),
        pytest.param("Tag: A\n\n  •\n\n    Text.\n", [3], "no title", id="bullet-without-title"),
        pytest.param(
            "Tag: A\n\n  • P\n\n    Text.\n\n    Dangling heading\n", [7], "no paragraphs under",
            id="heading-at-end-of-post",
        ),
        pytest.param(
            "Tag: A\n\n  • P\n\n    One\n\n    Two\n\n    Text.\n", [5], "'One' has no paragraphs",
            id="heading-followed-by-heading",
        ),
        pytest.param(
            "Tag: A\n\n  • Same Title\n\n    Text.\n\n  • Same title!\n\n    Text.\n", [7],
            "already taken on line 3", id="duplicate-slug",
        ),
        pytest.param(
            "Tag: A\n\n  • P\n\n    ```\n    code\n", [5], "never closed", id="unclosed-fence"
        ),
        pytest.param(
            f"Tag: A\n\n  • {'Long ' * 41}\n\n    Text.\n", [3], "longer than 200",
            id="title-too-long",
        ),
    ],
)  # fmt: skip
def test_malformed_file_reports_the_line(text: str, lines: list[int], fragment: str) -> None:
    problems = problems_of(text)
    assert [line for line, _ in problems] == lines
    assert fragment in problems[0][1]


def test_every_problem_in_the_file_is_reported_in_line_order() -> None:
    text = "    Stray.\n\n  • P\n\n  • Q\n\n    Text.\n\n    Dangling\n\nTag: A\n"
    assert [line for line, _ in problems_of(text)] == [1, 1, 3, 9, 11]


def test_plain_text_error_is_invalid_input_and_names_every_problem() -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_plaintext("Tag: A\nTag: B\n")
    assert isinstance(caught.value, PlainTextError)
    assert caught.value.message == (
        "the plain-text file has 2 problems: line 1: no posts (titles start with •); "
        "line 2: a second Tag line (the first is on line 1)"
    )


def test_bundled_demo_content_parses() -> None:
    demo = parse_plaintext(read_demo())
    assert demo.tag_slug == "getting-started"
    assert 4 <= len(demo.posts) <= 6
    assert all(post.sections for post in demo.posts)
