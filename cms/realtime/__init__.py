"""Live updates for GraphQL subscriptions: the broadcaster, its feeds and connection limits.

``LiveUpdates`` is what one app holds (``app.state.live``): built by ``create_app`` from the
settings, started and stopped by the app's lifespan (``running()``), which connects it to the
process's content-change bus.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from cms.realtime.broadcast import Broadcaster, RedisBroadcaster
from cms.realtime.limits import ConnectionLimiter
from cms.services.events import EventBus, events
from cms.settings import Settings

__all__ = ["Broadcaster", "ConnectionLimiter", "LiveUpdates", "RedisBroadcaster"]


@dataclass
class LiveUpdates:
    broadcaster: Broadcaster
    connections: ConnectionLimiter
    max_subscriptions: int

    @classmethod
    def from_settings(cls, settings: Settings) -> LiveUpdates:
        """Through Redis when ``CMS_REDIS_URL`` is set, in this process otherwise."""
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
            connections=ConnectionLimiter(settings.ws_max_connections_per_client),
            max_subscriptions=settings.ws_max_subscriptions,
        )

    @asynccontextmanager
    async def running(self, bus: EventBus = events) -> AsyncIterator[None]:
        async with self.broadcaster.running(bus):
            yield
