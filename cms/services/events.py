"""Content-change events: writers announce what changed; caches and notifiers listen.

Writers call ``content_changed`` only after their transaction has committed, so listeners
never see a change that could still roll back. Listeners are registered at start-up (the
app's lifespan) and must not raise: an event is a notification, not part of the write.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

logger = logging.getLogger("cms.events")


@dataclass(frozen=True)
class ContentChanged:
    """Which rows a committed write touched. Lists that could hold them are affected too."""

    kind: str  # e.g. "post.updated", "post.published", "tag.changed"
    post_ids: frozenset[int] = field(default_factory=frozenset)
    tag_ids: frozenset[int] = field(default_factory=frozenset)
    author_ids: frozenset[int] = field(default_factory=frozenset)


Listener = Callable[[ContentChanged], Awaitable[None]]


class EventBus:
    def __init__(self) -> None:
        self._listeners: list[Listener] = []

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Add ``listener``; returns a function that removes it again."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    async def content_changed(self, event: ContentChanged) -> None:
        for listener in list(self._listeners):
            try:
                await listener(event)
            except Exception:
                logger.exception("listener %r failed on %s", listener, event.kind)


# One bus per process; the app's lifespan subscribes its listeners to it.
events = EventBus()
