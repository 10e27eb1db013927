"""The plain-text export format: one tag, its posts, and their sections, parsed without a database.

A file looks like this (the Tag line starts at the left margin, other indentation is cosmetic,
and blank lines separate paragraphs)::

    Tag: Databases

      • Choosing an Index

        The intro paragraph, which ends with punctuation.

        Composite indexes

        Each paragraph under a heading belongs to that heading's section.

A paragraph of one short line (at most 8 words and 80 characters) that does not end with
closing punctuation is a section heading; everything before a post's first heading is its
intro. Fenced code blocks (``` or ~~~) are kept whole, blank lines included.

Errors::

    InvalidInput (cms.errors)
    └── PlainTextError    every problem in the file, each with its 1-based line number
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass, field
from importlib import resources
from typing import NamedTuple

from slugify import slugify

from cms.errors import InvalidInput

TAG_PREFIX = "Tag:"
TITLE_BULLET = "•"
HEADING_MAX_WORDS = 8
HEADING_MAX_CHARS = 80
# Limits of the columns the parsed values end up in (see cms.models.content).
TITLE_MAX_CHARS = 200
TAG_NAME_MAX_CHARS = 100
SLUG_MAX_CHARS = 80

# A sentence ends with one of these (an ellipsis and closing quotes included, since a quoted
# sentence ends inside them); a heading never does.
_CLOSING_PUNCTUATION = tuple(".!?:;,'\"\u2026\u201d\u2019")
# Markdown block syntax (list items, quotes, fences, tables, ATX headings) is body text even
# when short, or a three-item list would turn into three headings.
_BLOCK_MARKUP = re.compile(r"(?:[-*+>#]\s|\d+[.)]\s|```|~~~|\|)")
_FENCE = re.compile(r"(?:```|~~~)")


class Problem(NamedTuple):
    """One thing wrong with the file, at a 1-based line number."""

    line: int
    message: str


class PlainTextError(InvalidInput):
    """Raised when a plain-text file is malformed; ``problems`` lists every problem found."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems)
        summary = "; ".join(f"line {p.line}: {p.message}" for p in self.problems)
        count = len(self.problems)
        noun = "problem" if count == 1 else "problems"
        super().__init__(f"the plain-text file has {count} {noun}: {summary}", field="file")


@dataclass(frozen=True, slots=True)
class ParsedSection:
    """A section: its heading (None for the intro) and its paragraphs as markdown."""

    heading: str | None
    body: str
    line: int


@dataclass(frozen=True, slots=True)
class ParsedPost:
    """A post: its title, the line of its bullet, and its sections in file order."""

    title: str
    line: int
    sections: list[ParsedSection] = field(default_factory=list)

    @property
    def slug(self) -> str:
        return slugify(self.title, max_length=SLUG_MAX_CHARS)


@dataclass(frozen=True, slots=True)
class ParsedFile:
    """A whole file: the tag every post gets, and the posts in file order."""

    tag_name: str
    posts: list[ParsedPost] = field(default_factory=list)

    @property
    def tag_slug(self) -> str:
        return slugify(self.tag_name, max_length=SLUG_MAX_CHARS)


@dataclass(slots=True)
class _Paragraph:
    line: int
    text: str


@dataclass(slots=True)
class _PostDraft:
    title: str
    line: int
    paragraphs: list[_Paragraph] = field(default_factory=list)


def is_heading(text: str) -> bool:
    """Whether a paragraph reads as a section heading rather than as prose."""
    return (
        "\n" not in text
        and len(text) <= HEADING_MAX_CHARS
        and len(text.split()) <= HEADING_MAX_WORDS
        and not text.endswith(_CLOSING_PUNCTUATION)
        and _BLOCK_MARKUP.match(text) is None
    )


def parse_plaintext(text: str) -> ParsedFile:
    """Parse a whole file; raises PlainTextError listing every problem when it is malformed."""
    if not text.strip():
        raise PlainTextError([Problem(1, "the file is empty")])
    problems: list[Problem] = []
    tag, drafts = _read_blocks(text, problems)
    if tag is None:
        problems.append(Problem(1, f"missing the '{TAG_PREFIX} Name' line that names the tag"))
    else:
        _check_tag_name(tag, problems)
        if not drafts:
            problems.append(Problem(tag.line, f"no posts (titles start with {TITLE_BULLET})"))
    posts = [_build_post(draft, problems) for draft in drafts]
    _check_slugs(posts, problems)
    if problems or tag is None:
        raise PlainTextError(problems)
    return ParsedFile(tag_name=tag.text, posts=posts)


def read_demo() -> str:
    """The demo content shipped with the CMS (loaded by ``cms demo``)."""
    return resources.files("cms.content").joinpath("demo.txt").read_text(encoding="utf-8")


def _read_blocks(text: str, problems: list[Problem]) -> tuple[_Paragraph | None, list[_PostDraft]]:
    """Split the file into its Tag line and posts, each post with its raw paragraphs."""
    tag: _Paragraph | None = None
    drafts: list[_PostDraft] = []
    pending: list[tuple[int, str]] = []  # the lines of the paragraph being read
    fence_line = 0  # where the open code fence started, or 0 outside fences

    def flush() -> None:
        if not pending:
            return
        first = pending[0][0]
        body = textwrap.dedent("\n".join(line.rstrip() for _, line in pending)).strip("\n")
        pending.clear()
        if drafts:
            drafts[-1].paragraphs.append(_Paragraph(first, body))
        else:
            problems.append(
                Problem(first, f"text before the first post (titles start with {TITLE_BULLET})")
            )

    # splitlines() also ends lines at "\r\n" and "\r", so exported Windows files parse alike.
    for number, line in enumerate(text.removeprefix("\ufeff").splitlines(), start=1):
        stripped = line.strip()
        if fence_line:
            pending.append((number, line))
            if _FENCE.match(stripped):
                fence_line = 0
        elif not stripped:
            flush()
        elif line.startswith(TAG_PREFIX):
            flush()
            if tag is not None:
                problems.append(
                    Problem(number, f"a second Tag line (the first is on line {tag.line})")
                )
            elif drafts:
                problems.append(Problem(number, "the Tag line must come before the first post"))
            else:
                tag = _Paragraph(number, stripped.removeprefix(TAG_PREFIX).strip())
        elif stripped.startswith(TITLE_BULLET):
            flush()
            drafts.append(_PostDraft(stripped.removeprefix(TITLE_BULLET).strip(), number))
        else:
            pending.append((number, line))
            if _FENCE.match(stripped):
                fence_line = number
    if fence_line:
        problems.append(Problem(fence_line, "code fence is never closed"))
    flush()
    return tag, drafts


def _check_tag_name(tag: _Paragraph, problems: list[Problem]) -> None:
    if not slugify(tag.text):
        problems.append(Problem(tag.line, f"tag name {tag.text!r} has no letters or digits"))
    elif len(tag.text) > TAG_NAME_MAX_CHARS:
        problems.append(
            Problem(tag.line, f"tag name is longer than {TAG_NAME_MAX_CHARS} characters")
        )


def _build_post(draft: _PostDraft, problems: list[Problem]) -> ParsedPost:
    """Group a post's paragraphs into sections, each heading opening a new one."""
    if not draft.title:
        problems.append(Problem(draft.line, "post has no title after the bullet"))
    elif not slugify(draft.title):
        problems.append(Problem(draft.line, f"title {draft.title!r} has no letters or digits"))
    elif len(draft.title) > TITLE_MAX_CHARS:
        problems.append(Problem(draft.line, f"title is longer than {TITLE_MAX_CHARS} characters"))
    if not draft.paragraphs:
        problems.append(Problem(draft.line, f"post {draft.title!r} has no paragraphs"))

    sections: list[ParsedSection] = []
    heading: _Paragraph | None = None
    body: list[_Paragraph] = []

    def close() -> None:
        if heading is not None and not body:
            # Ambiguous rather than empty: the line may be a sentence missing its full stop.
            problems.append(
                Problem(
                    heading.line,
                    f"heading {heading.text!r} has no paragraphs under it"
                    " (end it with punctuation if it is a sentence)",
                )
            )
        elif body:
            sections.append(
                ParsedSection(
                    heading=None if heading is None else heading.text,
                    body="\n\n".join(paragraph.text for paragraph in body),
                    line=(heading or body[0]).line,
                )
            )

    for paragraph in draft.paragraphs:
        if is_heading(paragraph.text):
            close()
            heading, body = paragraph, []
        else:
            body.append(paragraph)
    close()
    return ParsedPost(title=draft.title, line=draft.line, sections=sections)


def _check_slugs(posts: list[ParsedPost], problems: list[Problem]) -> None:
    # Posts are matched by slug on import, so two titles with one slug would merge silently.
    seen: dict[str, int] = {}
    for post in posts:
        if not post.slug:
            continue
        if post.slug in seen:
            first = seen[post.slug]
            message = f"title gives the slug {post.slug!r}, already taken on line {first}"
            problems.append(Problem(post.line, message))
        else:
            seen[post.slug] = post.line
