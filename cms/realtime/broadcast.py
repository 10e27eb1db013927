"""Fan-out of committed content changes to the subscriptions of this process.

Writers announce a change on the event bus (``cms.services.events``) once it has committed; a
bus listener hands it to the broadcaster, which offers it to every open subscription's inbox.

- ``Broadcaster`` fans out in this process only: enough for one worker.
- ``RedisBroadcaster`` publishes each change to a Redis pub/sub channel instead, and a reader
  task in every worker fans out what the channel carries, so that each worker's subscribers
  hear every worker's writes (its own included, once). If publishing fails, the change is still
  delivered locally and the failure logged: subscribers of this worker do not pay for Redis
  being away. Pub/sub is at-most-once: changes published while a worker is disconnected from
  Redis are not replayed to it (webhooks, which must not lose events, use a durable outbox).

An inbox is a bounded queue. A subscriber that reads slower than changes arrive (a client that
stops reading its socket makes its operation block on sending) loses the *oldest* queued
changes once ``queue_size`` are waiting: memory stays bounded, and since payloads are loaded
fresh when they are sent, the newest state is never the one dropped.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager, suppress
from typing import TYPE_CHECKING, Any

import orjson

from cms.services.events import ContentChanged, EventBus

if TYPE_CHECKING:
    from redis.asyncio import Redis
    from redis.asyncio.client import PubSub

__all__ = ["CHANNEL", "Broadcaster", "Inbox", "RedisBroadcaster", "decode", "encode"]

logger = logging.getLogger("cms.realtime")

# Our own channel (CMS_REALTIME_CHANNEL), apart from other uses of the same Redis (cache
# invalidation, say). Messages carry a version, so the name need not change with the format.
CHANNEL = "cms:realtime:content-changed"
# How long the reader waits before reconnecting after losing Redis, growing up to the last.
_RECONNECT_DELAYS = (0.1, 0.5, 1.0, 2.0, 5.0)
_PUBLISH_TIMEOUT = 1.0
_CONNECT_TIMEOUT = 2.0
_IDLE_WAKEUP = 5.0

Wants = Callable[[ContentChanged], bool]


class Inbox:
    """The changes one subscription has yet to handle, at most ``maxsize`` of them."""

    def __init__(self, wants: Wants, *, maxsize: int) -> None:
        self.wants = wants
        self.queue: asyncio.Queue[ContentChanged] = asyncio.Queue(maxsize=maxsize)
        # Changes dropped because the subscriber fell behind by more than maxsize.
        self.dropped = 0

    def offer(self, event: ContentChanged) -> None:
        """Queue ``event`` if the subscription wants it, dropping the oldest when full."""
        if not self.wants(event):
            return
        if self.queue.full():
            self.queue.get_nowait()
            self.dropped += 1
            if self.dropped == 1 or self.dropped % 100 == 0:
                logger.warning("a slow subscriber has missed %d change(s)", self.dropped)
        self.queue.put_nowait(event)

    async def get(self) -> ContentChanged:
        return await self.queue.get()


class Broadcaster:
    """Delivers changes to the subscriptions of this process."""

    def __init__(self, *, queue_size: int = 100) -> None:
        self.queue_size = queue_size
        self._inboxes: set[Inbox] = set()

    @property
    def subscriber_count(self) -> int:
        return len(self._inboxes)

    @property
    def inboxes(self) -> frozenset[Inbox]:
        """The open subscriptions' inboxes (for monitoring and tests)."""
        return frozenset(self._inboxes)

    async def publish(self, event: ContentChanged) -> None:
        """Announce a committed change to every subscriber that can hear this broadcaster."""
        self.deliver_locally(event)

    def deliver_locally(self, event: ContentChanged) -> None:
        # Offering never blocks, so one slow subscriber cannot delay the others.
        for inbox in list(self._inboxes):
            inbox.offer(event)

    @contextmanager
    def listen(self, wants: Wants) -> Iterator[Inbox]:
        """An inbox that receives the changes ``wants`` accepts, until the block ends."""
        inbox = Inbox(wants, maxsize=self.queue_size)
        self._inboxes.add(inbox)
        try:
            yield inbox
        finally:
            self._inboxes.discard(inbox)

    async def start(self) -> None:
        """Connect whatever carries changes between workers (nothing, in process)."""

    async def stop(self) -> None:
        """Disconnect again."""

    @asynccontextmanager
    async def running(self, bus: EventBus) -> AsyncIterator[None]:
        """Hear ``bus`` and deliver what it announces, for the duration of the block."""
        await self.start()
        unsubscribe = bus.subscribe(self.publish)
        try:
            yield
        finally:
            unsubscribe()
            await self.stop()


class RedisBroadcaster(Broadcaster):
    """Carries changes between worker processes through a Redis pub/sub channel."""

    def __init__(self, url: str, *, channel: str = CHANNEL, queue_size: int = 100) -> None:
        super().__init__(queue_size=queue_size)
        self.url = url
        self.channel = channel
        self._publisher: Redis | None = None
        self._subscriber: Redis | None = None
        self._reader: asyncio.Task[None] | None = None

    async def publish(self, event: ContentChanged) -> None:
        try:
            assert self._publisher is not None, "publish() before start()"  # noqa: S101
            await self._publisher.publish(self.channel, encode(event))
        except Exception:
            # The change has committed; this worker's subscribers still hear of it.
            logger.exception("could not publish %s to Redis; delivering locally only", event.kind)
            self.deliver_locally(event)

    async def start(self) -> None:
        from redis.asyncio import Redis

        # Writers wait for publish() (the bus awaits its listeners), so a Redis that hangs
        # must cost them a second at most. The reader blocks on purpose, so it gets its own
        # connection without a read timeout, checked by pings instead.
        self._publisher = Redis.from_url(
            self.url, socket_connect_timeout=_PUBLISH_TIMEOUT, socket_timeout=_PUBLISH_TIMEOUT
        )
        self._subscriber = Redis.from_url(
            self.url, socket_connect_timeout=_CONNECT_TIMEOUT, health_check_interval=30
        )
        pubsub = self._subscriber.pubsub(ignore_subscribe_messages=True)
        await self._subscribe(pubsub)
        self._reader = asyncio.create_task(self._read(pubsub), name="cms-realtime-redis")

    async def stop(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with suppress(asyncio.CancelledError):
                await self._reader
            self._reader = None
        for client in (self._publisher, self._subscriber):
            if client is not None:
                await client.aclose()
        self._publisher = self._subscriber = None

    async def _subscribe(self, pubsub: PubSub) -> None:
        # Wait for Redis to confirm, so that every change published after start() is heard.
        await pubsub.subscribe(self.channel)
        while True:
            message = await pubsub.parse_response(block=True, timeout=5.0)
            if message is not None and message[0] in (b"subscribe", "subscribe"):
                return

    async def _read(self, pubsub: PubSub) -> None:
        failures = 0
        while True:
            try:
                # Wakes up now and then even when idle, so that health-check pings get sent.
                message = await pubsub.get_message(timeout=_IDLE_WAKEUP)
            except asyncio.CancelledError:
                await pubsub.aclose()
                raise
            except Exception:
                delay = _RECONNECT_DELAYS[min(failures, len(_RECONNECT_DELAYS) - 1)]
                failures += 1
                logger.exception("lost Redis channel %s; retrying in %.1fs", self.channel, delay)
                await asyncio.sleep(delay)
                continue
            failures = 0
            if message is None or message.get("type") != "message":
                continue
            event = decode(message["data"])
            if event is not None:
                self.deliver_locally(event)


def encode(event: ContentChanged) -> bytes:
    return orjson.dumps(
        {
            "v": 1,
            "kind": event.kind,
            "post_ids": sorted(event.post_ids),
            "tag_ids": sorted(event.tag_ids),
            "author_ids": sorted(event.author_ids),
        }
    )


def decode(data: bytes | str) -> ContentChanged | None:
    """The change a channel message carries; None (and a log line) if it is not one."""
    try:
        raw: Any = orjson.loads(data)
        if raw.get("v") != 1 or not isinstance(raw.get("kind"), str):
            raise ValueError("unknown message version or kind")
        return ContentChanged(
            kind=raw["kind"],
            post_ids=frozenset(_ids(raw, "post_ids")),
            tag_ids=frozenset(_ids(raw, "tag_ids")),
            author_ids=frozenset(_ids(raw, "author_ids")),
        )
    except (orjson.JSONDecodeError, AttributeError, TypeError, ValueError):
        logger.warning("ignored a malformed message on the realtime channel: %.200r", data)
        return None


def _ids(raw: dict[str, Any], key: str) -> list[int]:
    values = raw.get(key, [])
    if not isinstance(values, list) or not all(type(value) is int for value in values):
        raise ValueError(f"{key} is not a list of integers")
    return values
