"""The rules a post, a section or a tag must meet before anything is written.

Checks collect every problem rather than stopping at the first, so that a client learns about all
its invalid fields in one round trip; ``Problems.raise_if_any`` then raises ``ValidationFailed``,
whose ``problems`` each name one field. Fields are named as the GraphQL input names them, with
list positions for nested values (``sections.3.body``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from cms.errors import CMSError, InvalidInput, ValidationFailed
from cms.rendering.markdown import shape_problem
from cms.services.inputs import MAX_SLUG_LENGTH, check_text

MAX_TITLE_LENGTH = 200
MAX_EXCERPT_LENGTH = 1000
MAX_HEADING_LENGTH = 200
MAX_BODY_BYTES = 100 * 1024
MAX_SECTIONS = 200
MAX_TAGS = 50
MAX_TAG_NAME_LENGTH = 100
MAX_DESCRIPTION_LENGTH = 1000

# Lowercase ASCII words joined by single dashes: what slugify produces, and safe in any URL.
SLUG_PATTERN = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


class Problems:
    """Collects the problems of one input, then raises them all at once."""

    def __init__(self) -> None:
        self.found: list[CMSError] = []

    def add(self, error: CMSError) -> None:
        self.found.append(error)

    def invalid(self, field: str, message: str) -> None:
        self.found.append(InvalidInput(message, field=field))

    def text(
        self, value: str | None, *, field: str, max_length: int, required: bool = False
    ) -> None:
        """``value`` fits its column, has no NUL, and is not blank when ``required``."""
        if value is None:
            return
        try:
            check_text(value, field=field, max_length=max_length)
            # JSON can carry lone surrogates (\ud800); no database can store them.
            value.encode("utf-8")
        except InvalidInput as error:
            self.add(error)
            return
        except UnicodeEncodeError:
            self.invalid(field, f"`{field}` is not valid Unicode text.")
            return
        if required and not value.strip():
            self.invalid(field, f"`{field}` must not be blank.")

    def slug(self, value: str | None, *, field: str = "slug") -> None:
        if value is None:
            return
        if len(value) > MAX_SLUG_LENGTH or not SLUG_PATTERN.fullmatch(value):
            self.invalid(
                field,
                f"`{field}` {value[:100]!r} must be 1 to {MAX_SLUG_LENGTH} lowercase ASCII letters "
                "and digits, in words joined by single dashes (like `hello-world-2`).",
            )

    def raise_if_any(self) -> None:
        if self.found:
            raise ValidationFailed(self.found)


@dataclass(frozen=True)
class SectionInput:
    """A section as a client writes it: an optional heading over a markdown body."""

    body: str
    heading: str | None = None


def check_post_fields(
    problems: Problems,
    *,
    title: str | None,
    slug: str | None,
    excerpt: str | None,
    tags: Sequence[str] | None,
) -> None:
    """The rules on a post's own fields; None means "not given" and is not checked."""
    problems.text(title, field="title", max_length=MAX_TITLE_LENGTH, required=True)
    problems.slug(slug)
    problems.text(excerpt, field="excerpt", max_length=MAX_EXCERPT_LENGTH)
    if tags is not None:
        if len(set(tags)) > MAX_TAGS:
            problems.invalid("tags", f"A post has at most {MAX_TAGS} tags.")
        for index, tag in enumerate(tags):
            # Malformed slugs cannot name a tag; they are reported with the unknown ones.
            problems.text(tag, field=f"tags.{index}", max_length=MAX_SLUG_LENGTH)


def check_sections(
    problems: Problems, sections: Sequence[SectionInput], *, field: str = "sections"
) -> None:
    if len(sections) > MAX_SECTIONS:
        problems.invalid(field, f"A post has at most {MAX_SECTIONS} sections.")
        return
    for index, section in enumerate(sections):
        check_section(problems, section, field=f"{field}.{index}")


def check_section(problems: Problems, section: SectionInput, *, field: str = "section") -> None:
    problems.text(section.heading, field=f"{field}.heading", max_length=MAX_HEADING_LENGTH)
    # The limit is on stored size: a body of multi-byte characters fills it sooner.
    if len(section.body.encode("utf-8", errors="surrogatepass")) > MAX_BODY_BYTES:
        problems.invalid(f"{field}.body", f"`{field}.body` is larger than {MAX_BODY_BYTES} bytes.")
    else:
        problems.text(section.body, field=f"{field}.body", max_length=MAX_BODY_BYTES)
    shape = shape_problem(section.body)
    if shape is not None:
        problems.invalid(f"{field}.body", f"`{field}.body` {shape}")


def normalize_heading(heading: str | None) -> str | None:
    """A blank heading means no heading: the section continues the text above it."""
    if heading is None or not heading.strip():
        return None
    return heading.strip()
