"""Managing tags: create, update, delete, and merge one tag into another (``tags.manage``).

Names are unique regardless of case ("Python" and "python" cannot both exist) and slugs are
unique, both enforced by the database: slugs by a unique index, names by a unique index on
``lower(name)`` (migration 0008). The full rule is Python's ``casefold``, checked here before
writing for the clear error; the index settles races. SQLite's ``lower()`` folds only ASCII
letters, so there two editors creating "Ärger" and "ärger" in the same instant could still
both succeed (renaming one resolves it); PostgreSQL folds every letter.

Tag writes do not bump the versions of the posts they touch: they are housekeeping of the
taxonomy, not edits of a post, and must not make editors of those posts conflict. Listeners
still hear which posts' tag lists changed.
"""

from __future__ import annotations

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from cms.auth.viewer import Viewer
from cms.errors import Conflict, InvalidInput, NotFound, SlugTaken
from cms.models import PostTag, Tag
from cms.permissions import Permission
from cms.services.editing import announce, require
from cms.services.slugs import insert_with_free_slug, is_slug_clash, slug_base
from cms.services.validation import (
    MAX_DESCRIPTION_LENGTH,
    MAX_TAG_NAME_LENGTH,
    Problems,
)
from cms.services.webhooks.outbox import enqueue_webhook_events


async def create_tag(
    viewer: Viewer, *, name: str, slug: str | None = None, description: str = ""
) -> Tag:
    """A new tag; without a slug, one is made from the name."""
    require(viewer, Permission.TAGS_MANAGE)
    problems = _check(name=name, slug=slug, description=description)
    problems.raise_if_any()
    await _check_unique(problems, name=name.strip(), slug=slug)
    problems.raise_if_any()

    async def insert(chosen: str) -> Tag:
        return await Tag.create(name=name.strip(), slug=chosen, description=description)

    try:
        async with in_transaction():
            if slug is None:
                tag = await insert_with_free_slug(Tag, slug_base(name), insert)
            else:
                tag = await insert(slug)
            await enqueue_webhook_events("tag.created", tag_ids=[tag.id])
    except IntegrityError as exc:
        raise _lost_race(exc, name=name.strip(), slug=slug) from exc
    await announce("tag.created", tag_ids=[tag.id])
    return tag


async def update_tag(
    viewer: Viewer,
    *,
    tag_id: int,
    name: str | None = None,
    slug: str | None = None,
    description: str | None = None,
) -> Tag:
    """Rename a tag, change its slug or description (None leaves a field as it is)."""
    require(viewer, Permission.TAGS_MANAGE)
    tag = await _find(tag_id)
    problems = _check(name=name, slug=slug, description=description)
    problems.raise_if_any()
    await _check_unique(
        problems, name=name.strip() if name is not None else None, slug=slug, exclude_id=tag_id
    )
    problems.raise_if_any()
    if name is not None:
        tag.name = name.strip()
    if slug is not None:
        tag.slug = slug
    if description is not None:
        tag.description = description
    try:
        async with in_transaction():
            await tag.save()
            await enqueue_webhook_events("tag.updated", tag_ids=[tag.id])
    except IntegrityError as exc:
        raise _lost_race(exc, name=tag.name, slug=tag.slug) from exc
    await announce("tag.updated", tag_ids=[tag.id], post_ids=await _posts_of(tag.id))
    return tag


async def delete_tag(viewer: Viewer, *, tag_id: int) -> None:
    """Delete a tag; posts lose it (their other tags stay)."""
    require(viewer, Permission.TAGS_MANAGE)
    tag = await _find(tag_id)
    post_ids = await _posts_of(tag.id)
    async with in_transaction():
        # Enqueued first, so that the webhook payload can still name the tag.
        await enqueue_webhook_events("tag.deleted", tag_ids=[tag_id])
        await tag.delete()
    await announce("tag.deleted", tag_ids=[tag_id], post_ids=post_ids)


async def merge_tags(viewer: Viewer, *, source_id: int, target_id: int) -> Tag:
    """Move every post of ``source`` to ``target``, then delete ``source``; returns ``target``."""
    require(viewer, Permission.TAGS_MANAGE)
    if source_id == target_id:
        raise InvalidInput("A tag cannot be merged into itself.", field="target")
    source = await _find(source_id, field="source")
    target = await _find(target_id, field="target")
    post_ids = await _posts_of(source.id)
    async with in_transaction():
        already = await _posts_of(target.id)
        # A post carrying both tags keeps a single link to the target.
        await PostTag.filter(tag_id=source.id, post_id__in=already).delete()
        await PostTag.filter(tag_id=source.id).update(tag_id=target.id)
        await enqueue_webhook_events("tag.merged", tag_ids=[source.id, target.id])
        await source.delete()
    await announce("tag.merged", tag_ids=[source.id, target.id], post_ids=post_ids)
    return target


async def _find(tag_id: int, *, field: str = "id") -> Tag:
    tag = await Tag.get_or_none(id=tag_id)
    if tag is None:
        raise NotFound(f"There is no tag {tag_id}.", field=field)
    return tag


def _lost_race(exc: IntegrityError, *, name: str, slug: str | None) -> Exception:
    """The CONFLICT for a write that another one beat to a name or a slug since the checks."""
    if is_slug_clash(exc):
        # Generated slugs retry on their own; only one the client chose is lost.
        return SlugTaken(slug) if slug is not None else exc
    # The unique index on lower(name), tag_name_folded_key; anything else is a bug.
    return _name_taken(name) if "name" in str(exc).lower() else exc


def _name_taken(name: str) -> Conflict:
    return Conflict(f"A tag named {name!r} already exists.", field="name")


async def _posts_of(tag_id: int) -> list[int]:
    return [row["post_id"] for row in await PostTag.filter(tag_id=tag_id).values("post_id")]


def _check(*, name: str | None, slug: str | None, description: str | None) -> Problems:
    problems = Problems()
    problems.text(name, field="name", max_length=MAX_TAG_NAME_LENGTH, required=True)
    problems.slug(slug)
    problems.text(description, field="description", max_length=MAX_DESCRIPTION_LENGTH)
    return problems


async def _check_unique(
    problems: Problems, *, name: str | None, slug: str | None, exclude_id: int | None = None
) -> None:
    others = Tag.exclude(id=exclude_id) if exclude_id is not None else Tag.all()
    if name is not None:
        # Compared in Python: SQLite's UPPER() folds ASCII letters only, and "Ärger" must
        # clash with "ärger" on every database. Tag writes are rare and tags are few.
        wanted = name.casefold()
        names = await others.values_list("name", flat=True)
        if any(str(other).casefold() == wanted for other in names):
            problems.add(_name_taken(name))
    if slug is not None and await others.filter(slug=slug).exists():
        problems.add(SlugTaken(slug))
