"""The app's background task that records due scheduled posts as published.

Readers never wait for it: visibility already treats a SCHEDULED post whose ``published_at``
has passed as live. The task only brings the stored status in line (so that editors' lists and
the API say PUBLISHED) and announces the publication, so that caches drop lists that now hold
the post.

Each flip is an ordinary change to the post: a conditional version bump plus a revision (editor
none, mutation ``scheduledPublish``). Several app processes may run the task at once; the
version condition lets exactly one of them flip a given post, and a post being edited at that
moment is simply flipped on the next round.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress

from tortoise.transactions import in_transaction

from cms.models import Post, PostStatus
from cms.services.editing import Clock, announce, tag_ids_of, utc_now
from cms.services.snapshots import record_revision
from cms.services.webhooks.outbox import enqueue_webhook_events

logger = logging.getLogger("cms.scheduler")


class Scheduler:
    """Every ``interval`` seconds, publishes the scheduled posts whose time has come."""

    def __init__(self, *, interval: float, clock: Clock = utc_now) -> None:
        self.interval = interval
        self.clock = clock

    async def run_once(self) -> list[int]:
        """Flip every due post now; returns the ids this call published."""
        now = self.clock()
        due = await Post.filter(
            status=PostStatus.SCHEDULED, published_at__lte=now, deleted_at__isnull=True
        ).values("id", "version", "author_id")
        published: list[int] = []
        for row in due:
            async with in_transaction():
                claimed = await Post.filter(
                    id=row["id"], version=row["version"], status=PostStatus.SCHEDULED
                ).update(status=PostStatus.PUBLISHED, version=row["version"] + 1, updated_at=now)
                if claimed:
                    post = await Post.get(id=row["id"])
                    await record_revision(post, editor_id=None, mutation="scheduledPublish")
                    await enqueue_webhook_events("post.published", post_ids=[post.id])
                    published.append(post.id)
        if published:
            tag_ids: set[int] = set()
            for post_id in published:
                tag_ids |= await tag_ids_of(post_id)
            await announce(
                "post.published",
                post_ids=published,
                tag_ids=tag_ids,
                author_ids=[row["author_id"] for row in due if row["id"] in published],
            )
            logger.info("published %d scheduled post(s): %s", len(published), published)
        return published

    async def run_forever(self) -> None:
        while True:
            try:
                await self.run_once()
            except Exception:
                # A failed round (the database restarting, say) must not end the task.
                logger.exception("publishing scheduled posts failed; retrying")
            await asyncio.sleep(self.interval)

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Run the task in the background for the duration of the block."""
        task = asyncio.create_task(self.run_forever(), name="cms-scheduler")
        try:
            yield
        finally:
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task
