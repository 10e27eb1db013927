"""``cms export``: the whole database as one versioned JSON document (docs/export-format.md).

The output is deterministic, so that exporting, importing into an empty database and
exporting again gives the same bytes: keys in a fixed order (revision snapshots with sorted
keys), rows sorted by id (sections in reading order, revisions by version), timestamps in
UTC with microseconds, UTF-8, two-space indentation and a final newline.

Authors are exported without secrets: no password hash, no API or session token. Preview
tokens are left out too. Post-tag links are the ``tags`` list of each post.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import orjson

from cms.content.jsonformat import FORMAT, VERSION
from cms.models import Author, Post, PostTag, Revision, Section, Tag
from cms.services.revision_store import load_snapshots

Progress = Callable[[int, int], None]
"""Called as ``progress(done, total)`` as posts are written out."""

_PROGRESS_EVERY = 500


async def export_document(*, progress: Progress | None = None) -> dict[str, Any]:
    """Every author, tag and post (with sections, tag ids and revisions) as plain data."""
    authors = [_author(author) for author in await Author.all().order_by("id")]
    tags = [_tag(tag) for tag in await Tag.all().order_by("id")]
    sections = _group(await Section.all().order_by("post_id", "position"), lambda s: s.post_id)
    all_revisions = await Revision.all().order_by("post_id", "version", "id")
    # Revisions store section bodies apart, once per post and content; the file holds them whole.
    snapshots = await load_snapshots(all_revisions)
    revisions = _group(all_revisions, lambda r: r.post_id)
    tag_ids: dict[int, list[int]] = defaultdict(list)
    for post_id, tag_id in (
        await PostTag.all().order_by("post_id", "tag_id").values_list("post_id", "tag_id")
    ):
        tag_ids[post_id].append(tag_id)

    posts = await Post.all().order_by("id")
    exported = []
    for index, post in enumerate(posts, start=1):
        exported.append(
            _post(
                post,
                tag_ids[post.id],
                sections.get(post.id, []),
                [(r, snapshots[r.id]) for r in revisions.get(post.id, [])],
            )
        )
        if progress is not None and (index % _PROGRESS_EVERY == 0 or index == len(posts)):
            progress(index, len(posts))
    return {
        "format": FORMAT,
        "version": VERSION,
        "authors": authors,
        "tags": tags,
        "posts": exported,
    }


def dump(document: dict[str, Any]) -> bytes:
    """``document`` as the bytes of an export file."""
    return orjson.dumps(document, option=orjson.OPT_INDENT_2) + b"\n"


async def export_bytes(*, progress: Progress | None = None) -> bytes:
    return dump(await export_document(progress=progress))


def iso(moment: datetime | None) -> str | None:
    """``moment`` in UTC as ISO 8601, always with microseconds and a ``Z``."""
    if moment is None:
        return None
    text = moment.astimezone(UTC).isoformat(timespec="microseconds")
    return text.removesuffix("+00:00") + "Z"


def _author(author: Author) -> dict[str, Any]:
    return {
        "id": author.id,
        "name": author.name,
        "slug": author.slug,
        "email": author.email,
        "bio": author.bio,
        "role": author.role.value,
        "is_active": author.is_active,
        "created_at": iso(author.created_at),
    }


def _tag(tag: Tag) -> dict[str, Any]:
    return {"id": tag.id, "name": tag.name, "slug": tag.slug, "description": tag.description}


def _post(
    post: Post,
    tag_ids: list[int],
    sections: list[Section],
    revisions: list[tuple[Revision, Mapping[str, Any]]],
) -> dict[str, Any]:
    return {
        "id": post.id,
        "title": post.title,
        "slug": post.slug,
        "excerpt": post.excerpt,
        "status": post.status.value,
        "published_at": iso(post.published_at),
        "created_at": iso(post.created_at),
        "updated_at": iso(post.updated_at),
        "version": post.version,
        "deleted_at": iso(post.deleted_at),
        "author_id": post.author_id,
        "tags": tag_ids,
        "sections": [
            {"id": s.id, "heading": s.heading, "anchor": s.anchor, "body": s.body} for s in sections
        ],
        "revisions": [
            {
                "id": r.id,
                "version": r.version,
                "created_at": iso(r.created_at),
                "editor_id": r.editor_id,
                "mutation": r.mutation,
                # PostgreSQL's jsonb reorders keys, SQLite keeps them as written: sorted
                # keys make the output the same from either.
                "snapshot": _sorted(snapshot),
            }
            for r, snapshot in revisions
        ],
    }


def _sorted(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _sorted(value[key]) for key in sorted(value)}
    if isinstance(value, list):
        return [_sorted(item) for item in value]
    return value


def _group(rows: list[Any], key: Callable[[Any], int]) -> dict[int, list[Any]]:
    grouped: dict[int, list[Any]] = defaultdict(list)
    for row in rows:
        grouped[key(row)].append(row)
    return grouped
