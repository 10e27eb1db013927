"""Snapshots: the immutable record of a post taken after every change (a ``Revision`` row).

A snapshot holds what an editor would want back: the post's own fields, its tags (by slug,
with their ids) and its sections in order. Revision rows are only ever inserted, never updated
(old ones are pruned, see ``cms.services.revision_quota``). They are stored content-addressed
(``cms.services.revision_store``): read them back whole with ``load_snapshot(s)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TypedDict, cast

from cms.models import Post, Revision, Section, Tag
from cms.services import revision_store
from cms.services.revision_quota import check_author_quota, current_limits, prune


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
    """Store ``post``'s current state as the revision for its current version.

    Call it inside the change's transaction: a change past the editor's quota raises
    ``RevisionQuotaExceeded`` here, and the whole change rolls back.
    """
    limits = current_limits()
    stored = revision_store.split(await take_snapshot(post))
    added = await revision_store.write_bodies(post.id, stored.bodies) + stored.row_bytes
    if editor_id is not None:
        await check_author_quota(editor_id, adding=added, limit=limits.bytes_per_hour)
    revision = await Revision.create(
        post_id=post.id,
        version=post.version,
        editor_id=editor_id,
        mutation=mutation,
        snapshot=stored.fields,
        sections=stored.sections,
        stored_bytes=added,
    )
    await prune(post.id, keep_at_most=limits.per_post)
    return revision


async def load_snapshots(revisions: Sequence[Revision]) -> dict[int, Snapshot]:
    """The whole snapshot of each of ``revisions``, by revision id (one query for them all)."""
    loaded = await revision_store.load_snapshots(revisions)
    return {revision_id: cast(Snapshot, snapshot) for revision_id, snapshot in loaded.items()}


async def load_snapshot(revision: Revision) -> Snapshot:
    return (await load_snapshots([revision]))[revision.id]


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None
