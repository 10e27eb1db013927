"""What each subscription yields: posts as they are *now*, read with the subscriber's visibility.

A change only says which rows it touched; the post itself is read from the database when the
subscriber is about to receive it. The change was announced after its transaction committed,
so the read sees it (or a later state), never something that could still roll back, and a
subscriber who fell behind gets current posts rather than stale copies.

Each read asks ``visibility()`` first: a fresh ``Visibility`` for the subscriber, since a
connection may live for hours (posts become live as time passes, a token may be revoked).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Awaitable, Callable

from cms.models import Post, PostTag
from cms.realtime.broadcast import Broadcaster
from cms.services.events import ContentChanged
from cms.services.visibility import LIVE_STATUSES, Visibility

__all__ = ["PUBLISHING_KINDS", "post_changes", "published_posts"]

VisibilitySource = Callable[[], Awaitable[Visibility]]

# The changes after which a post may have just gone live. A post created as a draft or
# scheduled for later is filtered out below, since it is not live when read; a scheduled post
# is announced as "post.published" when the scheduler records its publication.
PUBLISHING_KINDS = frozenset({"post.published", "post.created"})


async def published_posts(
    broadcaster: Broadcaster, *, visibility: VisibilitySource, tag: str | None = None
) -> AsyncGenerator[Post, None]:
    """Each post that goes live from now on (only those tagged ``tag``, if given)."""

    def wants(event: ContentChanged) -> bool:
        return event.kind in PUBLISHING_KINDS and bool(event.post_ids)

    with broadcaster.listen(wants) as inbox:
        while True:
            event = await inbox.get()
            seen = await visibility()
            for post_id in sorted(event.post_ids):
                post = await seen.posts().filter(id=post_id).first()
                if post is None or not _is_live(post, seen):
                    continue
                if tag is not None and not await _has_tag(post_id, tag):
                    continue
                yield post


async def post_changes(
    broadcaster: Broadcaster, *, visibility: VisibilitySource, post_id: int
) -> AsyncGenerator[Post | None, None]:
    """The post after each change to it; None once when it stops being readable.

    Changes to a post the subscriber cannot read are not reported at all, so that nobody
    learns when someone else's draft is edited; a post that *becomes* readable (published,
    restored) is reported from then on.
    """

    def wants(event: ContentChanged) -> bool:
        return post_id in event.post_ids

    # Listening starts before the first read, so no change can fall in between.
    with broadcaster.listen(wants) as inbox:
        readable = await (await visibility()).posts().filter(id=post_id).exists()
        while True:
            await inbox.get()
            post = await (await visibility()).posts().filter(id=post_id).first()
            if post is not None:
                readable = True
                yield post
            elif readable:
                readable = False
                yield None


def _is_live(post: Post, visibility: Visibility) -> bool:
    # Editors may read drafts, but only posts readers can see count as published.
    return (
        post.status in LIVE_STATUSES
        and post.published_at is not None
        and post.published_at <= visibility.now
    )


async def _has_tag(post_id: int, slug: str) -> bool:
    return await PostTag.filter(post_id=post_id, tag__slug=slug).exists()
