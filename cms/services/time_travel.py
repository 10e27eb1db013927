"""Time travel: a post as it was at a given moment, rebuilt from its revisions.

The post is found by its id or its *current* slug (a slug it had only in the past does not
find it), and must not be in the trash. Its state at ``as_of`` is the latest revision created
at or before ``as_of``; a post that has no such revision but has not changed since ``as_of``
(``updated_at <= as_of``, e.g. imported and never edited) is its current state. Otherwise
there is nothing to show: null.

Visibility is judged *at that moment*, from the state then: a post that was published or
scheduled, with a publication time at or before ``as_of``, was public and anyone sees it, even
if it is a draft today. Any other state is shown only to viewers who may read the post's drafts
today (its author, editors, a preview token). ``as_of`` later than now counts as now, so
the future of a scheduled post stays hidden.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from cms.errors import InvalidInput
from cms.models import Post, PostStatus, Revision
from cms.services.inputs import check_instant, check_slug
from cms.services.snapshots import SectionSnapshot, Snapshot, load_snapshot
from cms.services.visibility import LIVE_STATUSES, Visibility


@dataclass(frozen=True)
class PastContent:
    """The parts of a past post that live in other tables today: sections and tags."""

    # The revision the state comes from; None when it is the current state.
    revision_id: int | None
    sections: tuple[SectionSnapshot, ...]
    tag_ids: tuple[int, ...]


@dataclass(frozen=True)
class PastPost:
    # An unsaved Post carrying the fields as they were (id and created_at are today's).
    post: Post
    # None when the current rows hold the state (nothing changed since ``as_of``).
    content: PastContent | None


async def post_as_of(
    visibility: Visibility,
    *,
    as_of: datetime,
    post_id: int | None = None,
    slug: str | None = None,
) -> PastPost | None:
    """The post as it was at ``as_of``, if this viewer may see that state; else None."""
    if as_of.tzinfo is None:
        raise InvalidInput("`asOf` needs a time zone, e.g. 2026-01-01T12:00:00Z.", field="asOf")
    check_instant(as_of, field="asOf")
    check_slug(slug, field="slug")
    as_of = min(as_of, visibility.now)
    queryset = Post.filter(deleted_at__isnull=True)
    if post_id is not None:
        queryset = queryset.filter(id=post_id)
    if slug is not None:
        queryset = queryset.filter(slug=slug)
    current = await queryset.first()
    if current is None:
        return None
    revision = (
        await Revision.filter(post_id=current.id, created_at__lte=as_of)
        .order_by("-created_at", "-version")
        .first()
    )
    if revision is None:
        if current.updated_at > as_of:
            return None
        past = PastPost(post=current, content=None)
    else:
        past = _from_revision(current, revision, await load_snapshot(revision))
    return past if _visible(visibility, past.post, current, as_of) else None


def _from_revision(current: Post, revision: Revision, snapshot: Snapshot) -> PastPost:
    published_at = snapshot["published_at"]
    post = Post(
        id=current.id,
        title=snapshot["title"],
        slug=snapshot["slug"],
        excerpt=snapshot["excerpt"],
        status=PostStatus(snapshot["status"]),
        published_at=datetime.fromisoformat(published_at) if published_at else None,
        created_at=current.created_at,
        updated_at=revision.created_at,
        version=revision.version,
        deleted_at=None,
        author_id=snapshot["author_id"],
    )
    content = PastContent(
        revision_id=revision.id,
        sections=tuple(snapshot["sections"]),
        tag_ids=tuple(snapshot["tag_ids"]),
    )
    return PastPost(post=post, content=content)


def _visible(visibility: Visibility, then: Post, current: Post, as_of: datetime) -> bool:
    was_public = (
        then.status in LIVE_STATUSES
        and then.published_at is not None
        and then.published_at <= as_of
    )
    if was_public or visibility.any_drafts:
        return True
    # Drafts of the past are as private as today's: its author's, or opened by a preview.
    return (
        current.id in visibility.preview_post_ids
        or visibility.own_drafts_author_id == current.author_id
    )
