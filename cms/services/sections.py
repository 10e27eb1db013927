"""Writing a post's sections: add, update, move and delete one, or replace them all.

Every change keeps two rules: positions run 0..n-1 without gaps, and anchors are unique within
the post. Anchors are recomputed for the whole post on each change (``assign_anchors``), since
renaming or moving one heading can shift the numbering of its namesakes (``setup-2``).
Each change is a change to the post: it goes through ``apply_change``, so it bumps the post's
version, checks ``expectedVersion`` and records a revision.

A body is rendered (``render_sections``, bounded and off the event loop) after validation and
before the transaction opens, and its HTML and plain text are stored with it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from tortoise.expressions import F

from cms.auth.viewer import Viewer
from cms.errors import InvalidInput, NotFound
from cms.models import Post, Section
from cms.permissions import Permission
from cms.rendering.markdown import Rendered, assign_anchors
from cms.rendering.workers import render_bodies
from cms.services.editing import Clock, Then, apply_change, find_post, require_on_post, utc_now
from cms.services.validation import (
    MAX_SECTIONS,
    Problems,
    SectionInput,
    check_section,
    normalize_heading,
)

EDIT_OWN, EDIT_ANY = Permission.POSTS_EDIT_OWN, Permission.POSTS_EDIT_ANY
# Positions are unique per post, so rows about to move are first parked out of the way, at
# their old position plus this (never a real position, as a post has at most 200 sections).
_PARKING = 1_000_000


@dataclass(frozen=True)
class SectionChange:
    """The section a mutation wrote (None once deleted) and its post afterwards."""

    section: Section | None
    post: Post


@dataclass(frozen=True)
class RenderedSection:
    """A section input with its body rendered: what a write stores."""

    heading: str | None
    body: str
    rendered: Rendered


async def render_sections(
    sections: Sequence[SectionInput], *, field: str = "sections"
) -> list[RenderedSection]:
    """Render the sections' bodies; BAD_USER_INPUT on ``{field}.{i}.body`` past a bound."""
    rendered = await render_bodies(
        [s.body for s in sections], fields=[f"{field}.{i}.body" for i in range(len(sections))]
    )
    return [
        RenderedSection(heading=s.heading, body=s.body, rendered=r)
        for s, r in zip(sections, rendered, strict=True)
    ]


SectionRow = tuple[str | None, str, str]
"""A section as stored: (heading, anchor, body)."""


class HeadedBody(Protocol):
    """A section's text as given: a ``SectionInput``, or one whose body is rendered."""

    @property
    def heading(self) -> str | None: ...

    @property
    def body(self) -> str: ...


def section_rows(sections: Sequence[HeadedBody]) -> list[SectionRow]:
    """``sections`` as ``replace_sections`` stores them: normalised headings, fresh anchors."""
    headings = [normalize_heading(section.heading) for section in sections]
    return [
        (heading, anchor, section.body)
        for section, heading, anchor in zip(
            sections, headings, assign_anchors(headings), strict=True
        )
    ]


async def replace_sections(post_id: int, sections: Sequence[RenderedSection]) -> None:
    """Make ``sections`` the post's sections. Old rows go; the new ones get new ids."""
    await Section.filter(post_id=post_id).delete()
    await Section.bulk_create(
        Section(
            post_id=post_id,
            position=index,
            heading=heading,
            anchor=anchor,
            body=body,
            html=section.rendered.html,
            plain_text=section.rendered.plain_text,
        )
        for index, ((heading, anchor, body), section) in enumerate(
            zip(section_rows(sections), sections, strict=True)
        )
    )


async def store_order(sections: Sequence[Section]) -> None:
    """Give ``sections`` positions 0..n-1 in list order and fresh anchors; write changed rows."""
    anchors = assign_anchors(section.heading for section in sections)
    changed = [
        (position, section, anchor)
        for position, (section, anchor) in enumerate(zip(sections, anchors, strict=True))
        if section.position != position or section.anchor != anchor
    ]
    moving = [section.id for position, section, _ in changed if section.position != position]
    if moving:
        await Section.filter(id__in=moving).update(position=F("position") + _PARKING)
    for position, section, anchor in changed:
        await Section.filter(id=section.id).update(position=position, anchor=anchor)
        section.position, section.anchor = position, anchor


async def _sections_of(post_id: int) -> list[Section]:
    return list(await Section.filter(post_id=post_id).order_by("position"))


async def _find_section(section_id: int) -> Section:
    section = await Section.filter(id=section_id, post__deleted_at__isnull=True).first()
    if section is None:
        raise NotFound(f"There is no section {section_id}.", field="sectionId")
    return section


def _check_position(position: int, *, upper: int) -> None:
    if not 0 <= position <= upper:
        raise InvalidInput(f"`position` must be between 0 and {upper}.", field="position")


async def _editable_section(viewer: Viewer, section_id: int) -> tuple[Section, Post]:
    """The section and its post, once ``viewer`` may edit the post."""
    section = await _find_section(section_id)
    post = await find_post(section.post_id)
    require_on_post(viewer, post, EDIT_OWN, EDIT_ANY)
    return section, post


def _row(sections: Sequence[Section], section_id: int) -> Section:
    """``section_id`` among ``sections``, read inside the change's transaction."""
    row = next((s for s in sections if s.id == section_id), None)
    if row is None:  # deleted since it was read; the version claim makes this rare
        raise NotFound(f"There is no section {section_id}.", field="sectionId")
    return row


async def _change(
    viewer: Viewer,
    post: Post,
    *,
    expected_version: int,
    mutation: str,
    clock: Clock,
    then: Then,
) -> Post:
    """A section change is a change to its post (see the module docstring)."""
    return await apply_change(
        viewer,
        post,
        expected_version=expected_version,
        mutation=mutation,
        event="post.updated",
        now=clock(),
        then=then,
    )


def _validated(section: SectionInput, *, field: str = "section") -> SectionInput:
    problems = Problems()
    check_section(problems, section, field=field)
    problems.raise_if_any()
    return SectionInput(body=section.body, heading=normalize_heading(section.heading))


async def add_section(
    viewer: Viewer,
    *,
    post_id: int,
    expected_version: int,
    section: SectionInput,
    position: int | None = None,
    clock: Clock = utc_now,
) -> SectionChange:
    """Insert ``section`` at ``position`` (default: at the end), shifting later ones down."""
    post = await find_post(post_id)
    require_on_post(viewer, post, EDIT_OWN, EDIT_ANY)
    new = _validated(section)
    (rendered,) = await render_bodies([new.body], fields=["section.body"])
    created: list[Section] = []

    async def insert(post: Post) -> None:
        sections = await _sections_of(post.id)
        if len(sections) >= MAX_SECTIONS:
            raise InvalidInput(f"A post has at most {MAX_SECTIONS} sections.", field="section")
        at = len(sections) if position is None else position
        _check_position(at, upper=len(sections))
        # Created parked, with a placeholder anchor; store_order gives it its real place.
        row = await Section.create(
            post_id=post.id,
            position=-1,
            heading=new.heading,
            anchor="",
            body=new.body,
            html=rendered.html,
            plain_text=rendered.plain_text,
        )
        sections.insert(at, row)
        await store_order(sections)
        created.append(row)

    stored = await _change(
        viewer,
        post,
        expected_version=expected_version,
        mutation="addSection",
        clock=clock,
        then=insert,
    )
    return SectionChange(section=created[0], post=stored)


async def update_section(
    viewer: Viewer,
    *,
    section_id: int,
    expected_version: int,
    heading: str | None = None,
    body: str | None = None,
    clock: Clock = utc_now,
) -> SectionChange:
    """Change a section's heading or body (None leaves it; an empty heading removes it)."""
    current, post = await _editable_section(viewer, section_id)
    changed = _validated(
        SectionInput(
            body=current.body if body is None else body,
            heading=current.heading if heading is None else heading,
        )
    )
    rendered = Rendered(html=current.html, plain_text=current.plain_text)
    if changed.body != current.body:
        (rendered,) = await render_bodies([changed.body], fields=["section.body"])

    async def rewrite(post: Post) -> None:
        sections = await _sections_of(post.id)
        row = _row(sections, section_id)
        await Section.filter(id=section_id).update(
            heading=changed.heading,
            body=changed.body,
            html=rendered.html,
            plain_text=rendered.plain_text,
        )
        row.heading, row.body = changed.heading, changed.body
        await store_order(sections)

    stored = await _change(
        viewer,
        post,
        expected_version=expected_version,
        mutation="updateSection",
        clock=clock,
        then=rewrite,
    )
    return SectionChange(section=await Section.get(id=section_id), post=stored)


async def move_section(
    viewer: Viewer,
    *,
    section_id: int,
    expected_version: int,
    position: int,
    clock: Clock = utc_now,
) -> SectionChange:
    """Move a section to ``position`` (0 is first), shifting the ones in between."""
    _, post = await _editable_section(viewer, section_id)

    async def move(post: Post) -> None:
        sections = await _sections_of(post.id)
        _check_position(position, upper=len(sections) - 1)
        row = _row(sections, section_id)
        sections.remove(row)
        sections.insert(position, row)
        await store_order(sections)

    stored = await _change(
        viewer,
        post,
        expected_version=expected_version,
        mutation="moveSection",
        clock=clock,
        then=move,
    )
    return SectionChange(section=await Section.get(id=section_id), post=stored)


async def delete_section(
    viewer: Viewer, *, section_id: int, expected_version: int, clock: Clock = utc_now
) -> SectionChange:
    """Remove a section; the ones after it move up."""
    _, post = await _editable_section(viewer, section_id)

    async def delete(post: Post) -> None:
        if not await Section.filter(id=section_id).delete():
            raise NotFound(f"There is no section {section_id}.", field="sectionId")
        await store_order(await _sections_of(post.id))

    stored = await _change(
        viewer,
        post,
        expected_version=expected_version,
        mutation="deleteSection",
        clock=clock,
        then=delete,
    )
    return SectionChange(section=None, post=stored)
