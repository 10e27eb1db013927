"""The Subscription root: live posts over WebSocket (see ``cms.graphql.websocket``).

Each event carries the post as it is when sent, read with the subscriber's own visibility:
drafts reach only those allowed to read them. Events are announced after the change commits,
so a subscriber never hears of a change that could still roll back.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import aclosing
from functools import partial
from typing import Any

import strawberry

from cms.errors import InvalidInput
from cms.graphql.context import Info
from cms.graphql.node import pk_of
from cms.graphql.posts.types import Post
from cms.graphql.websocket import current_visibility, live_updates, require_websocket
from cms.models import Post as PostModel
from cms.realtime.feeds import post_changes, published_posts

__all__ = ["Subscription"]

_MAX_SLUG_LENGTH = 80


@strawberry.type
class Subscription:
    """Live updates, over the graphql-transport-ws protocol at /graphql."""

    @strawberry.subscription(
        description="Each post as it goes live: published now, or when its scheduled time "
        "comes (recorded by the scheduler). With `tag`, only posts carrying that tag slug."
    )
    async def post_published(
        self, info: Info, tag: str | None = None
    ) -> AsyncGenerator[Post, None]:
        # Checked before any stream exists: over HTTP streaming (multipart), which has none of
        # the WebSocket handler's sign-in and caps, this is a plain BAD_USER_INPUT error.
        require_websocket(info.context)
        if tag is not None and not 0 < len(tag) <= _MAX_SLUG_LENGTH:
            raise InvalidInput(f"`tag` is a tag slug of 1 to {_MAX_SLUG_LENGTH} characters.")
        live = live_updates(info.context.request)
        posts = published_posts(
            live.broadcaster, visibility=partial(current_visibility, info.context), tag=tag
        )
        return _as_types(posts)

    @strawberry.subscription(
        description="The post after each change to it, if you may read it; null once when "
        "it stops being readable to you (unpublished, trashed, deleted)."
    )
    async def post_changed(
        self, info: Info, id: strawberry.ID
    ) -> AsyncGenerator[Post | None, None]:
        require_websocket(info.context)
        post_id = pk_of(id, "Post")
        live = live_updates(info.context.request)
        changes = post_changes(
            live.broadcaster, visibility=partial(current_visibility, info.context), post_id=post_id
        )
        return _as_types(changes)


async def _as_types(posts: AsyncGenerator[PostModel | None, None]) -> AsyncGenerator[Any, None]:
    # Yields Post (or None, for postChanged); typed Any so that both fields can share it.
    # aclosing: a cancelled subscription closes its feed (and inbox) at once, not at GC.
    async with aclosing(posts):
        async for post in posts:
            yield Post.from_model(post) if post is not None else None
