"""Who sees which posts: the one definition of "visible", applied by every read path."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tortoise.expressions import Q
from tortoise.queryset import QuerySet

from cms.models import Post, PostStatus

# Scheduled posts need no cron to appear: once published_at has passed they are live.
LIVE_STATUSES = (PostStatus.PUBLISHED, PostStatus.SCHEDULED)


@dataclass(frozen=True)
class Visibility:
    """What one request may read, fixed when the request starts (``now`` included).

    Anonymous readers see live posts only: published or scheduled, with ``published_at`` in
    the past, and not in the trash.
    """

    now: datetime

    @classmethod
    def anonymous(cls, now: datetime | None = None) -> Visibility:
        return cls(now=now or datetime.now(UTC))

    def post_filter(self, prefix: str = "") -> Q:
        """The condition a post row must meet, optionally through a relation ``prefix``."""
        conditions: dict[str, Any] = {
            f"{prefix}status__in": LIVE_STATUSES,
            f"{prefix}published_at__lte": self.now,
            f"{prefix}deleted_at__isnull": True,
        }
        return Q(**conditions)

    def posts(self) -> QuerySet[Post]:
        """Every post this viewer may read."""
        return Post.filter(self.post_filter())
