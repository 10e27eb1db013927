"""Rendering section bodies: markdown to safe HTML, to plain text, and headings to anchors.

Raw HTML inside markdown is escaped, never passed through: authors write markdown, and a
``<script>`` in a body must reach the reader as text.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from markdown_it import MarkdownIt
from slugify import slugify

# "commonmark" with html disabled escapes raw HTML blocks and inline tags.
_renderer = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
_renderer.enable("table")

WORDS_PER_MINUTE = 230
ANCHOR_MAX_LENGTH = 80
INTRO_ANCHOR = "intro"


def render_html(body: str) -> str:
    """The body's markdown as HTML, with any raw HTML escaped."""
    html: str = _renderer.render(body)
    return html


def render_plain_text(body: str) -> str:
    """The body's text without markup: inline content joined, blocks separated by blank lines."""
    blocks: list[str] = []
    for token in _renderer.parse(body):
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
