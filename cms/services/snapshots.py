"""Snapshots: the immutable record of a post taken after every change (a ``Revision`` row).

A snapshot holds what an editor would want back: the post's own fields, its tags (by slug,
with their ids) and its sections in order. Revision rows are only ever inserted, never updated.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypedDict

from cms.models import Post, Revision, Section, Tag


class SectionSnapshot(TypedDict):
    heading: str | None
    anchor: str
    body: str


class Snapshot(TypedDict):
    title: str
    slug: str
    excerpt: str
    status: str
    published_at: str | None
    author_id: int
    tags: list[str]
    tag_ids: list[int]
    sections: list[SectionSnapshot]


async def take_snapshot(post: Post) -> Snapshot:
    """``post`` as stored right now, with its tags and sections."""
    tags = await Tag.filter(post_links__post_id=post.id).order_by("name", "id")
    sections = await Section.filter(post_id=post.id).order_by("position")
    return Snapshot(
        title=post.title,
        slug=post.slug,
        excerpt=post.excerpt,
        status=post.status.value,
        published_at=_iso(post.published_at),
        author_id=post.author_id,
        tags=[tag.slug for tag in tags],
        tag_ids=[tag.id for tag in tags],
        sections=[
            SectionSnapshot(heading=s.heading, anchor=s.anchor, body=s.body) for s in sections
        ],
    )


async def record_revision(post: Post, *, editor_id: int | None, mutation: str) -> Revision:
    """Store ``post``'s current state as the revision for its current version."""
    snapshot: dict[str, Any] = dict(await take_snapshot(post))
    return await Revision.create(
        post_id=post.id,
        version=post.version,
        editor_id=editor_id,
        mutation=mutation,
        snapshot=snapshot,
    )


def snapshot_of(revision: Revision) -> Snapshot:
    stored: Snapshot = revision.snapshot  # type: ignore[assignment]
    return stored


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None
