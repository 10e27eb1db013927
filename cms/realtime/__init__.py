"""Live updates for GraphQL subscriptions: the broadcaster, its feeds and connection limits.

``LiveUpdates`` is what one app holds (``app.state.live``): built by ``create_app`` from the
settings, started and stopped by the app's lifespan (``running()``), which connects it to the
process's content-change bus.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from cms.realtime.broadcast import Broadcaster, RedisBroadcaster
from cms.realtime.limits import ConnectionLimiter, Connections, SharedConnectionLimiter
from cms.services.events import EventBus, events
from cms.settings import Settings

if TYPE_CHECKING:
    from cms.limit_store import LimitStore

__all__ = ["Broadcaster", "ConnectionLimiter", "LiveUpdates", "RedisBroadcaster"]


@dataclass
class LiveUpdates:
    broadcaster: Broadcaster
    connections: Connections
    max_subscriptions: int

    @classmethod
    def from_settings(cls, settings: Settings, store: LimitStore | None = None) -> LiveUpdates:
        """Through Redis when ``CMS_REDIS_URL`` is set, in this process otherwise.

        Connections are counted in ``store``'s Redis when it has one (for all workers).
        """
        broadcaster = (
            RedisBroadcaster(
                settings.redis_url,
                channel=settings.realtime_channel,
                queue_size=settings.ws_queue_size,
            )
            if settings.redis_url
            else Broadcaster(queue_size=settings.ws_queue_size)
        )
        return cls(
            broadcaster=broadcaster,
            connections=(
                SharedConnectionLimiter(
                    store.redis, settings.ws_max_connections_per_client, prefix=store.prefix
                )
                if store is not None and store.redis is not None
                else ConnectionLimiter(settings.ws_max_connections_per_client)
            ),
            max_subscriptions=settings.ws_max_subscriptions,
        )

    @asynccontextmanager
    async def running(self, bus: EventBus = events) -> AsyncIterator[None]:
        async with self.broadcaster.running(bus):
            yield
