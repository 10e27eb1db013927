"""Limits on revision storage: revisions kept per post, and bytes each author adds per hour.

Every change stores a revision (``cms.services.snapshots``), so without limits one author could
fill the disk by moving a section back and forth. Two limits, read from the settings
(``CMS_REVISIONS_PER_POST``, ``CMS_REVISION_BYTES_PER_HOUR``; 0 turns either off):

- a post keeps at most ``per_post`` revisions. A change that goes past it deletes the oldest
  tenth (and the bodies only they held) in the same transaction, so the cleanup runs once per
  tenth, not on every change. ``post(asOf:)`` before the oldest revision left then answers null.
- an author adds at most ``bytes_per_hour`` bytes of revisions (the stored row plus new section
  bodies) in any hour. The change that would go past it fails with THROTTLED and writes nothing;
  the error says when to try again. The scheduler and ``cms import`` are not counted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from math import ceil

from tortoise.functions import Sum

from cms.errors import RevisionQuotaExceeded
from cms.models import Revision
from cms.services.revision_store import drop_unused_bodies
from cms.settings import get_settings

WINDOW = timedelta(hours=1)


@dataclass(frozen=True)
class RevisionLimits:
    per_post: int
    bytes_per_hour: int


@cache
def current_limits() -> RevisionLimits:
    """The limits the settings set, read once per process like the rest of the settings
    (reading them costs about a millisecond, too much for every change of an import)."""
    settings = get_settings()
    return RevisionLimits(
        per_post=settings.revisions_per_post, bytes_per_hour=settings.revision_bytes_per_hour
    )


async def check_author_quota(editor_id: int, *, adding: int, limit: int) -> None:
    """Raise ``RevisionQuotaExceeded`` if ``adding`` bytes take ``editor_id`` past ``limit``."""
    if not limit:
        return
    now = datetime.now(UTC)
    recent = Revision.filter(editor_id=editor_id, created_at__gt=now - WINDOW)
    rows = await recent.annotate(total=Sum("stored_bytes")).values("total")
    used = int(rows[0]["total"] or 0) if rows else 0
    if used + adding <= limit:
        return
    # The moment enough of the window's bytes have aged out of it for this change to fit.
    over = used + adding - limit
    retry_at = now + WINDOW
    for created_at, size in await recent.order_by("created_at").values_list(
        "created_at", "stored_bytes"
    ):
        over -= size
        if over <= 0:
            retry_at = created_at + WINDOW
            break
    raise RevisionQuotaExceeded(
        limit=limit, retry_after=max(1, ceil((retry_at - now).total_seconds()))
    )


async def prune(post_id: int, *, keep_at_most: int) -> None:
    """Past ``keep_at_most`` revisions, delete the post's oldest down to nine tenths of it."""
    if not keep_at_most or await Revision.filter(post_id=post_id).count() <= keep_at_most:
        return
    keep = max(1, keep_at_most - keep_at_most // 10)
    doomed = await (
        Revision.filter(post_id=post_id)
        .order_by("-version")
        .offset(keep)
        .values_list("id", flat=True)
    )
    await Revision.filter(id__in=list(doomed)).delete()
    await drop_unused_bodies(post_id)
