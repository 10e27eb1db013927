"""Who sees which posts: the one definition of "visible", applied by every read path.

A post is readable when it is not in the trash and any of these holds:

- it is live: published or scheduled, with ``published_at`` in the past (anyone);
- the viewer holds ``posts.read_any_drafts`` (editors and admins see every post);
- the viewer holds ``posts.read_own_drafts`` and wrote it;
- the request carries a valid preview token for it (``X-Preview-Token``).

Trashed posts are hidden from every reader, their authors included; only the trash mutations
(restore, purge) reach them, and those look rows up directly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from tortoise.expressions import Q
from tortoise.queryset import QuerySet

from cms.auth.viewer import Viewer
from cms.models import Post, PostStatus
from cms.permissions import Permission

# Scheduled posts need no cron to appear: once published_at has passed they are live.
LIVE_STATUSES = (PostStatus.PUBLISHED, PostStatus.SCHEDULED)


@dataclass(frozen=True)
class Visibility:
    """What one request may read, fixed when the request starts (``now`` included).

    Anonymous readers see live posts only: published or scheduled, with ``published_at`` in
    the past, and not in the trash.
    """

    now: datetime
    # Every post that is not trashed, whatever its status (``posts.read_any_drafts``).
    any_drafts: bool = False
    # The author whose unpublished posts are readable too (``posts.read_own_drafts``).
    own_drafts_author_id: int | None = None
    # Posts a preview token opened for this request, in any status.
    preview_post_ids: frozenset[int] = field(default_factory=frozenset)

    @classmethod
    def anonymous(cls, now: datetime | None = None) -> Visibility:
        return cls(now=now or datetime.now(UTC))

    @classmethod
    def for_viewer(
        cls,
        viewer: Viewer,
        *,
        preview_post_ids: frozenset[int] = frozenset(),
        now: datetime | None = None,
    ) -> Visibility:
        """What ``viewer`` may read, plus the posts opened by preview tokens."""
        own = viewer.is_authenticated and viewer.can(Permission.POSTS_READ_OWN_DRAFTS)
        return cls(
            now=now or datetime.now(UTC),
            any_drafts=viewer.can(Permission.POSTS_READ_ANY_DRAFTS),
            own_drafts_author_id=viewer.author_id if own else None,
            preview_post_ids=preview_post_ids | viewer.preview_post_ids,
        )

    @property
    def sees_unpublished(self) -> bool:
        """Whether any post without a past ``published_at`` may be in this viewer's lists."""
        return (
            self.any_drafts or self.own_drafts_author_id is not None or bool(self.preview_post_ids)
        )

    def post_filter(self, prefix: str = "") -> Q:
        """The condition a post row must meet, optionally through a relation ``prefix``."""
        not_trashed = _q({f"{prefix}deleted_at__isnull": True})
        if self.any_drafts:
            return not_trashed
        readable = _q(
            {f"{prefix}status__in": LIVE_STATUSES, f"{prefix}published_at__lte": self.now}
        )
        if self.own_drafts_author_id is not None:
            readable |= _q({f"{prefix}author_id": self.own_drafts_author_id})
        if self.preview_post_ids:
            readable |= _q({f"{prefix}id__in": sorted(self.preview_post_ids)})
        return not_trashed & readable

    def posts(self) -> QuerySet[Post]:
        """Every post this viewer may read."""
        return Post.filter(self.post_filter())


def _q(conditions: dict[str, Any]) -> Q:
    return Q(**conditions)
