"""Webhooks: sending the signed HTTP callbacks that the domain wrote to its durable outbox.

- ``dispatcher``  claims due deliveries, sends them, retries with backoff, disables failing hooks
- ``signing``     the ``X-CMS-Signature`` HMAC scheme, and ``verify`` for Python receivers

The domain side lives in ``cms.services.webhooks``: the event names, the outbox that writers
fill inside their transaction, which URLs may be called, and managing webhooks.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from cms.services.events import EventBus
from cms.services.events import events as content_events
from cms.settings import Settings
from cms.webhooks.dispatcher import DispatchConfig, Dispatcher
from cms.webhooks.signing import verify

__all__ = [
    "DispatchConfig",
    "Dispatcher",
    "dispatching",
    "verify",
]


@asynccontextmanager
async def dispatching(settings: Settings, bus: EventBus = content_events) -> AsyncIterator[None]:
    """Run this process's dispatcher for the duration of the block (the app's lifespan).

    (The bus is imported under another name: ``events`` is this package's submodule.)
    """
    async with Dispatcher(DispatchConfig.from_settings(settings)).running(bus):
        yield
