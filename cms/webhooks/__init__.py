"""Webhooks: signed HTTP callbacks for content changes, sent from a durable outbox.

- ``events``      the webhook event names and the content changes that raise them
- ``outbox``      ``enqueue_webhook_events``: writers call it inside their transaction
- ``dispatcher``  claims due deliveries, sends them, retries with backoff, disables failing hooks
- ``signing``     the ``X-CMS-Signature`` HMAC scheme, and ``verify`` for Python receivers
- ``urls``        which URLs may be called (http(s), public addresses only: SSRF)
- ``manage``      create, update, delete and redeliver (``webhooks.manage``)
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from cms.services.events import EventBus
from cms.services.events import events as content_events
from cms.settings import Settings
from cms.webhooks.dispatcher import DispatchConfig, Dispatcher
from cms.webhooks.events import WebhookEvent
from cms.webhooks.outbox import enqueue_webhook_events
from cms.webhooks.signing import verify

__all__ = [
    "DispatchConfig",
    "Dispatcher",
    "WebhookEvent",
    "dispatching",
    "enqueue_webhook_events",
    "verify",
]


@asynccontextmanager
async def dispatching(settings: Settings, bus: EventBus = content_events) -> AsyncIterator[None]:
    """Run this process's dispatcher for the duration of the block (the app's lifespan).

    (The bus is imported under another name: ``events`` is this package's submodule.)
    """
    async with Dispatcher(DispatchConfig.from_settings(settings)).running(bus):
        yield
