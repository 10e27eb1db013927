"""Rendering section bodies: markdown to safe HTML, to plain text, and headings to anchors.

Raw HTML inside markdown is escaped, never passed through: authors write markdown, and a
``<script>`` in a body must reach the reader as text.

Rendering is slow for its input (markdown-it-py takes about 5 µs a character, and 30 µs for
each ``[`` it tries as a link opener), so it happens once, when a section is written, and
readers get the stored result. :func:`shape_problem` is the first bound on it, checked before
rendering: at most ``MAX_LINK_OPENERS`` brackets per body (the issue's ``![![![...`` took
1.4 s per 100 KB; 5,000 openers take about 0.15 s). Nesting is bounded by markdown-it's own
``maxNesting`` (20 in the commonmark preset), and size by the body limit of
``cms.services.validation``. The time bound is :mod:`cms.rendering.workers`'s.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import NamedTuple

from markdown_it import MarkdownIt
from markdown_it.token import Token
from slugify import slugify

# "commonmark" with html disabled escapes raw HTML blocks and inline tags.
_renderer = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
_renderer.enable("table")

WORDS_PER_MINUTE = 230
ANCHOR_MAX_LENGTH = 80
INTRO_ANCHOR = "intro"
# Each `[` starts a search for the end of a link label; past this many a body is refused.
MAX_LINK_OPENERS = 5000
# Escaping makes HTML longer than its markdown (`&` becomes `&amp;`): a stored section's HTML
# and plain text are each at most this long, which is what the cost estimate assumes.
MAX_RENDERED_BYTES = 512 * 1024


class Rendered(NamedTuple):
    """A body rendered, as stored beside it on the section row."""

    html: str
    plain_text: str


def shape_problem(body: str) -> str | None:
    """Why ``body`` may not be rendered (it names the limit), or None when it may."""
    openers = body.count("[")
    if openers > MAX_LINK_OPENERS:
        return (
            f"has {openers} `[` (link and image openers); at most {MAX_LINK_OPENERS} are "
            "allowed in one section. Split it into several sections."
        )
    return None


def render(body: str) -> Rendered:
    """The body as HTML (raw HTML escaped) and as plain text, from one parse.

    Slow and unbounded in time by itself: call it through ``cms.rendering.workers``.
    """
    tokens = _renderer.parse(body)
    html: str = _renderer.renderer.render(tokens, _renderer.options, {})
    return Rendered(html=html, plain_text=_plain_text(tokens))


def render_plain_text(body: str) -> str:
    """The body's text without markup: inline content joined, blocks separated by blank lines."""
    return _plain_text(_renderer.parse(body))


def _plain_text(tokens: Iterable[Token]) -> str:
    blocks: list[str] = []
    for token in tokens:
        if token.type == "inline" and token.children is not None:
            blocks.append("".join(_inline_text(token.children)))
        elif token.type in {"fence", "code_block"}:
            blocks.append(token.content.rstrip("\n"))
    return "\n\n".join(block for block in blocks if block)


def _inline_text(children: Iterable[object]) -> Iterable[str]:
    for child in children:
        kind = getattr(child, "type", "")
        if kind in {"text", "code_inline", "html_inline"}:
            yield getattr(child, "content", "")
        elif kind in {"softbreak", "hardbreak"}:
            yield "\n" if kind == "hardbreak" else " "


def reading_time_minutes(texts: Iterable[str]) -> int:
    """Minutes to read ``texts`` at a steady pace; at least one for any post."""
    words = sum(len(text.split()) for text in texts)
    return max(1, math.ceil(words / WORDS_PER_MINUTE))


def assign_anchors(headings: Iterable[str | None]) -> list[str]:
    """One anchor per section, unique within the post: ``setup``, then ``setup-2``, ``setup-3``.

    An intro section (no heading) is anchored as ``intro``; a heading with no letters or digits
    falls back to ``section``.
    """
    seen: dict[str, int] = {}
    taken: set[str] = set()
    anchors: list[str] = []
    for heading in headings:
        base = INTRO_ANCHOR if heading is None else slugify(heading, max_length=ANCHOR_MAX_LENGTH)
        base = base or "section"
        count = seen.get(base, 0) + 1
        anchor = base if count == 1 else f"{base}-{count}"
        # A literal heading like "Setup 2" must not collide with the second "Setup".
        while anchor in taken:
            count += 1
            anchor = f"{base}-{count}"
        seen[base] = count
        taken.add(anchor)
        anchors.append(anchor)
    return anchors
