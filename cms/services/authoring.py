"""Writing posts: create, update, trash and restore, publish and unpublish.

Each operation checks permissions first (UNAUTHENTICATED / FORBIDDEN), then validates every
field (all problems at once, nothing written if any), then writes in one transaction through
``apply_change``, which guards against concurrent edits (see ``cms.services.editing``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from cms.auth.viewer import Viewer
from cms.errors import InvalidInput, NotFound, SlugTaken
from cms.models import Author, Post, PostStatus, PostTag, Tag
from cms.permissions import Permission
from cms.services.editing import (
    Clock,
    announce,
    apply_change,
    find_post,
    require,
    require_on_post,
    tag_ids_of,
    utc_now,
)
from cms.services.inputs import check_instant
from cms.services.sections import RenderedSection, render_sections, replace_sections
from cms.services.slugs import insert_with_free_slug, is_slug_clash, slug_base
from cms.services.snapshots import record_revision
from cms.services.validation import (
    Problems,
    SectionInput,
    check_post_fields,
    check_sections,
)
from cms.services.webhooks.outbox import enqueue_webhook_events

P = Permission


@dataclass(frozen=True)
class PostChanges:
    """The fields an update sets; None leaves a field as it is."""

    title: str | None = None
    slug: str | None = None
    excerpt: str | None = None
    tags: Sequence[str] | None = None
    sections: Sequence[SectionInput] | None = None
    author_id: int | None = None


async def create_post(
    viewer: Viewer,
    *,
    title: str,
    slug: str | None = None,
    excerpt: str = "",
    tags: Sequence[str] = (),
    sections: Sequence[SectionInput] = (),
    status: PostStatus = PostStatus.DRAFT,
    clock: Clock = utc_now,
) -> Post:
    """A new post by the viewer, with its sections and tags, written in one transaction.

    ``status`` may be DRAFT or PUBLISHED (published now); scheduling goes through
    ``publish_post``. Without a slug, one is made from the title (``hello``, ``hello-2``...).
    """
    require(viewer, P.POSTS_CREATE)
    if status is PostStatus.PUBLISHED:
        require(viewer, P.POSTS_PUBLISH_OWN)
    assert viewer.author_id is not None  # noqa: S101 - require() lets only signed-in viewers on
    problems = Problems()
    check_post_fields(problems, title=title, slug=slug, excerpt=excerpt, tags=tags)
    check_sections(problems, sections)
    if status not in (PostStatus.DRAFT, PostStatus.PUBLISHED):
        problems.invalid(
            "status", "A new post is DRAFT or PUBLISHED; schedule it with `publishPost(at:)`."
        )
    problems.raise_if_any()
    tag_rows = await _existing_tags(problems, tags)
    if slug is not None and await Post.filter(slug=slug).exists():
        problems.add(SlugTaken(slug))
    problems.raise_if_any()
    rendered = await render_sections(sections)

    now = clock()

    async def insert(chosen: str) -> Post:
        return await insert_post(
            {
                "title": title.strip(),
                "slug": chosen,
                "excerpt": excerpt,
                "status": status,
                "published_at": now if status is PostStatus.PUBLISHED else None,
                "author_id": viewer.author_id,
            },
            sections=rendered,
            tag_ids=[t.id for t in tag_rows],
            editor_id=viewer.author_id,
            mutation="createPost",
        )

    try:
        async with in_transaction():
            if slug is None:
                post = await insert_with_free_slug(Post, slug_base(title), insert)
            else:
                post = await insert(slug)
    except IntegrityError as exc:
        # Only a slug the client chose can be lost to another writer since the check above.
        if slug is None or not is_slug_clash(exc):
            raise
        raise SlugTaken(slug) from exc
    await announce(
        "post.created",
        post_ids=[post.id],
        tag_ids=[t.id for t in tag_rows],
        author_ids=[post.author_id],
    )
    return post


async def insert_post(
    fields: Mapping[str, Any],
    *,
    sections: Sequence[RenderedSection],
    tag_ids: Sequence[int],
    editor_id: int | None,
    mutation: str,
) -> Post:
    """Write a new post with its sections and tags, its first revision and the webhook
    deliveries it owes, inside the caller's transaction (which announces after committing)."""
    post = await Post.create(**fields)
    await replace_sections(post.id, sections)
    await PostTag.bulk_create(PostTag(post_id=post.id, tag_id=tag_id) for tag_id in tag_ids)
    await record_revision(post, editor_id=editor_id, mutation=mutation)
    await enqueue_webhook_events("post.created", post_ids=[post.id])
    return post


async def update_post(
    viewer: Viewer,
    *,
    post_id: int,
    expected_version: int,
    changes: PostChanges,
    clock: Clock = utc_now,
) -> Post:
    """Apply ``changes`` to a post if it is still at ``expected_version``.

    Given ``sections`` replace the post's sections wholesale (the rows get new ids); given
    ``tags`` replace its tags. Changing the author needs ``posts.change_author``.
    """
    post = await find_post(post_id)
    require_on_post(viewer, post, P.POSTS_EDIT_OWN, P.POSTS_EDIT_ANY)
    if changes.author_id is not None and changes.author_id != post.author_id:
        require(viewer, P.POSTS_CHANGE_AUTHOR)
    problems = Problems()
    check_post_fields(
        problems,
        title=changes.title,
        slug=changes.slug,
        excerpt=changes.excerpt,
        tags=changes.tags,
    )
    if changes.sections is not None:
        check_sections(problems, changes.sections)
    if changes == PostChanges():
        problems.invalid("input", "Nothing to change: give at least one field besides the id.")
    problems.raise_if_any()
    tag_rows = await _existing_tags(problems, changes.tags or ())
    if (
        changes.slug is not None
        and await Post.filter(slug=changes.slug).exclude(id=post_id).exists()
    ):
        problems.add(SlugTaken(changes.slug))
    if changes.author_id is not None and not await Author.filter(id=changes.author_id).exists():
        problems.add(NotFound(f"There is no author {changes.author_id}.", field="authorId"))
    problems.raise_if_any()
    rendered = None if changes.sections is None else await render_sections(changes.sections)

    fields: dict[str, Any] = {
        name: value
        for name, value in (
            ("title", changes.title.strip() if changes.title is not None else None),
            ("slug", changes.slug),
            ("excerpt", changes.excerpt),
            ("author_id", changes.author_id),
        )
        if value is not None
    }

    async def write_related(post: Post) -> None:
        if changes.tags is not None:
            await set_tags(post.id, [tag.id for tag in tag_rows])
        if rendered is not None:
            await replace_sections(post.id, rendered)

    return await apply_change(
        viewer,
        post,
        expected_version=expected_version,
        mutation="updatePost",
        event="post.updated",
        now=clock(),
        fields=fields,
        then=write_related,
    )


async def delete_post(
    viewer: Viewer, *, post_id: int, expected_version: int | None = None, clock: Clock = utc_now
) -> Post:
    """Move a post to the trash: it disappears from every read until restored or purged."""
    post = await find_post(post_id)
    require_on_post(viewer, post, P.POSTS_DELETE_OWN, P.POSTS_DELETE_ANY)
    now = clock()
    return await apply_change(
        viewer,
        post,
        expected_version=expected_version,
        mutation="deletePost",
        event="post.deleted",
        now=now,
        fields={"deleted_at": now},
    )


async def restore_post(
    viewer: Viewer, *, post_id: int, expected_version: int | None = None, clock: Clock = utc_now
) -> Post:
    """Take a post out of the trash, in the status it had when it was trashed."""
    post = await find_post(post_id, trashed=True)
    require_on_post(viewer, post, P.POSTS_DELETE_OWN, P.POSTS_DELETE_ANY)
    return await apply_change(
        viewer,
        post,
        expected_version=expected_version,
        mutation="restorePost",
        event="post.restored",
        now=clock(),
        fields={"deleted_at": None},
    )


async def publish_post(
    viewer: Viewer,
    *,
    post_id: int,
    expected_version: int,
    at: datetime | None = None,
    clock: Clock = utc_now,
) -> Post:
    """Publish now, or schedule for ``at``.

    A future ``at`` makes the post SCHEDULED: readers see it from that moment on, and the
    scheduler later records it as PUBLISHED. A past ``at`` publishes with that date
    (backdating). Without ``at``, an already published post keeps its publication date.
    """
    post = await find_post(post_id)
    require_on_post(viewer, post, P.POSTS_PUBLISH_OWN, P.POSTS_PUBLISH_ANY)
    if at is not None and at.tzinfo is None:
        raise InvalidInput("`at` needs a time zone, e.g. 2030-01-01T09:00:00Z.", field="at")
    check_instant(at, field="at")
    now = clock()
    if at is not None and at > now:
        status, published_at, event = PostStatus.SCHEDULED, at, "post.scheduled"
    else:
        kept = post.published_at if post.status is PostStatus.PUBLISHED else None
        status, published_at, event = PostStatus.PUBLISHED, at or kept or now, "post.published"
    return await apply_change(
        viewer,
        post,
        expected_version=expected_version,
        mutation="publishPost",
        event=event,
        now=now,
        fields={"status": status, "published_at": published_at},
    )


async def unpublish_post(
    viewer: Viewer, *, post_id: int, expected_version: int, clock: Clock = utc_now
) -> Post:
    """Make a published or scheduled post a draft again; it loses its publication date."""
    post = await find_post(post_id)
    require_on_post(viewer, post, P.POSTS_PUBLISH_OWN, P.POSTS_PUBLISH_ANY)
    return await apply_change(
        viewer,
        post,
        expected_version=expected_version,
        mutation="unpublishPost",
        event="post.unpublished",
        now=clock(),
        fields={"status": PostStatus.DRAFT, "published_at": None},
    )


async def purge_trash(*, older_than: timedelta, clock: Clock = utc_now) -> int:
    """Delete for good the posts trashed more than ``older_than`` ago; returns how many.

    Their sections, tag links, revisions and preview tokens go with them (foreign keys cascade).
    """
    cutoff = clock() - older_than
    doomed = await Post.filter(deleted_at__lt=cutoff).values_list("id", "author_id")
    if not doomed:
        return 0
    post_ids = [post_id for post_id, _ in doomed]
    tag_ids = [row["tag_id"] for row in await PostTag.filter(post_id__in=post_ids).values("tag_id")]
    await Post.filter(id__in=post_ids, deleted_at__lt=cutoff).delete()
    # Counted rather than taken from the driver, whose row count may include cascaded rows; a
    # post restored in the meantime no longer matched the delete and is still there.
    deleted = len(post_ids) - await Post.filter(id__in=post_ids).count()
    await announce(
        "post.purged",
        post_ids=post_ids,
        tag_ids=tag_ids,
        author_ids=[author_id for _, author_id in doomed],
    )
    return deleted


async def set_tags(post_id: int, tag_ids: Sequence[int]) -> None:
    """Make ``tag_ids`` the post's tags, touching only the links that change."""
    wanted = set(tag_ids)
    current = await tag_ids_of(post_id)
    if current - wanted:
        await PostTag.filter(post_id=post_id, tag_id__in=sorted(current - wanted)).delete()
    await PostTag.bulk_create(
        PostTag(post_id=post_id, tag_id=tag_id) for tag_id in sorted(wanted - current)
    )


async def _existing_tags(problems: Problems, slugs: Sequence[str]) -> list[Tag]:
    """The tags named by ``slugs``; an unknown slug is a problem with ``tags``, never dropped."""
    wanted = list(dict.fromkeys(slugs))
    if not wanted:
        return []
    found = {tag.slug: tag for tag in await Tag.filter(slug__in=wanted)}
    unknown = [slug for slug in wanted if slug not in found]
    if unknown:
        names = ", ".join(repr(slug) for slug in unknown)
        problems.invalid("tags", f"No tag has the slug {names}; create the tag first.")
    return [found[slug] for slug in wanted if slug in found]
