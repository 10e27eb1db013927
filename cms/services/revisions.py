"""A post's history: reading its revisions, and restoring one as a new change.

Restoring never rewrites history: it writes the revision's content as a *new* change, which
bumps the version and is itself recorded as a revision (mutation ``restoreRevision``).

What a restore brings back: title, slug, excerpt, tags and sections. Not the status,
publication time or author: publishing and ownership have their own mutations and
permissions, and going back to an old wording must not silently unpublish a post. Tags are
found by id, so a tag renamed since comes back under its new name; a tag deleted since cannot
come back and is left out. If another post has taken the old slug meanwhile, the restore
fails with a CONFLICT on ``slug`` and changes nothing.
"""

from __future__ import annotations

from tortoise.queryset import QuerySet

from cms.auth.viewer import Viewer
from cms.errors import NotFound, PermissionDenied, SlugTaken, Unauthenticated
from cms.models import Post, Revision, Tag
from cms.permissions import Permission
from cms.services.authoring import set_tags
from cms.services.editing import Clock, apply_change, find_post, require_on_post, utc_now
from cms.services.pagination import SortKey
from cms.services.sections import render_sections, replace_sections
from cms.services.snapshots import load_snapshot
from cms.services.validation import SectionInput

# Newest first. Ids grow with versions within a post, and a cursor on the id alone stays valid
# however the list grows.
NEWEST_FIRST = SortKey((("id", True),))


async def revisions_of(viewer: Viewer, *, post_id: int) -> QuerySet[Revision]:
    """A post's revisions, for viewers who may edit it (paginate with ``NEWEST_FIRST``).

    Anonymous viewers get UNAUTHENTICATED and others who may not edit the post FORBIDDEN,
    rather than an empty list that would read as "no history". Who may edit is decided on the
    post's current row, never on a past state (``post(asOf:)`` shows the author of that time):
    an author whose post went to someone else no longer reads its history.
    """
    if not viewer.is_authenticated:
        raise Unauthenticated("Sign in to read a post's revisions.")
    current = await Post.filter(id=post_id).values("author_id")
    if not current or not viewer.can_on_post(
        Permission.POSTS_EDIT_OWN, Permission.POSTS_EDIT_ANY, post_author_id=current[0]["author_id"]
    ):
        raise PermissionDenied(f"Only those who may edit post {post_id} may read its revisions.")
    return Revision.filter(post_id=post_id)


async def restore_revision(
    viewer: Viewer,
    *,
    post_id: int,
    revision_id: int,
    expected_version: int,
    clock: Clock = utc_now,
) -> Post:
    """Bring ``post_id`` back to the content of one of its revisions, as a new revision."""
    post = await find_post(post_id)
    require_on_post(viewer, post, Permission.POSTS_EDIT_OWN, Permission.POSTS_EDIT_ANY)
    revision = await Revision.get_or_none(id=revision_id, post_id=post_id)
    if revision is None:
        raise NotFound(f"Post {post_id} has no revision {revision_id}.", field="revisionId")
    snapshot = await load_snapshot(revision)
    if await Post.filter(slug=snapshot["slug"]).exclude(id=post_id).exists():
        raise SlugTaken(snapshot["slug"])
    tag_ids = [row["id"] for row in await Tag.filter(id__in=snapshot["tag_ids"]).values("id")]
    sections = await render_sections(
        [
            SectionInput(heading=section["heading"], body=section["body"])
            for section in snapshot["sections"]
        ]
    )

    async def write_related(post: Post) -> None:
        await set_tags(post.id, tag_ids)
        await replace_sections(post.id, sections)

    return await apply_change(
        viewer,
        post,
        expected_version=expected_version,
        mutation="restoreRevision",
        event="post.updated",
        now=clock(),
        fields={
            "title": snapshot["title"],
            "slug": snapshot["slug"],
            "excerpt": snapshot["excerpt"],
        },
        then=write_related,
    )
