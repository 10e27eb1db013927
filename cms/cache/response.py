"""The response cache: fresh hits, stale-while-revalidate, single-flight misses, exact purges.

``ResponseCache.serve(key, produce)`` answers one cacheable request:

- a **fresh** entry is returned as it is;
- a **stale** entry (past ``ttl``, within ``swr`` more) is returned too, and one background task
  refreshes it;
- on a **miss**, the first request runs ``produce`` (the GraphQL execution); identical requests
  that arrive meanwhile wait for its result instead of running their own (*single flight*).
  A result is stored only when ``produce`` says it may be shared (anonymous, no errors).

Content changes (``cms.services.events``) purge the entries whose surrogate keys they name
before the write that caused them returns (see ``cms.cache.invalidation``). Two races are
closed with the backend's purge epoch: a result computed while a purge happened is not stored,
and a request that arrives after a purge never joins a flight that began before it.

The cache only serves between ``running()``'s start and end, that is while it hears content
changes: an app run without its lifespan reads the database every time rather than risk
serving what a write has changed.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Literal

from cms.cache.backend import Backend, Entry
from cms.cache.invalidation import stale_keys
from cms.cache.keys import strong_etag
from cms.services.events import ContentChanged, events

logger = logging.getLogger("cms.cache")

Outcome = Literal["hit", "stale", "miss", "shared", "bypass"]


@dataclass(frozen=True)
class Produced:
    """A response as the GraphQL layer made it, and whether it may be shared with others."""

    body: bytes
    status: int = 200
    headers: tuple[tuple[str, str], ...] = ()
    surrogate_keys: frozenset[str] = frozenset()
    shareable: bool = False


@dataclass(frozen=True)
class Served:
    body: bytes
    etag: str
    status: int
    headers: tuple[tuple[str, str], ...]
    surrogate_keys: frozenset[str]
    shareable: bool
    outcome: Outcome

    @classmethod
    def of_entry(cls, entry: Entry, outcome: Outcome) -> Served:
        return cls(
            body=entry.body,
            etag=entry.etag,
            status=200,
            headers=entry.headers,
            surrogate_keys=entry.surrogate_keys,
            shareable=True,
            outcome=outcome,
        )

    @classmethod
    def of_produced(cls, produced: Produced, outcome: Outcome) -> Served:
        return cls(
            body=produced.body,
            etag=strong_etag(produced.body),
            status=produced.status,
            headers=produced.headers,
            surrogate_keys=produced.surrogate_keys,
            shareable=produced.shareable,
            outcome=outcome,
        )


Produce = Callable[[], Awaitable[Produced]]


@dataclass
class _Flight:
    epoch: int
    # Resolved with the leader's result, or None when the leader failed or may not share it.
    result: asyncio.Future[Produced | None]


class ResponseCache:
    def __init__(
        self,
        backend: Backend,
        *,
        ttl: float,
        swr: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.backend = backend
        self.ttl = ttl
        self.swr = swr
        self.clock = clock
        self.active = False
        self._flights: dict[str, _Flight] = {}
        self._refreshes: set[asyncio.Task[None]] = set()

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Serve from the cache for the duration of the block, purging on content changes."""
        unsubscribe = events.subscribe(self.on_content_changed)
        self.active = True
        try:
            yield
        finally:
            self.active = False
            unsubscribe()
            for task in list(self._refreshes):
                task.cancel()
            await asyncio.gather(*self._refreshes, return_exceptions=True)
            await self.backend.close()

    async def on_content_changed(self, event: ContentChanged) -> None:
        try:
            keys = await stale_keys(event)
        except Exception:
            # Not knowing what went stale, drop everything rather than serve stale content.
            logger.exception("could not work out what %s made stale: emptying the cache", event)
            await self.backend.purge_all()
            return
        await self.backend.purge(keys)

    async def serve(self, key: str, produce: Produce) -> Served:
        """The response for ``key``: from the cache, or from ``produce`` (see module doc)."""
        if not self.active:
            return Served.of_produced(await produce(), "bypass")
        lookup = await self.backend.get(key)
        entry = lookup.entry
        if entry is not None:
            if self.clock() < entry.fresh_until:
                return Served.of_entry(entry, "hit")
            if lookup.epoch is not None and key not in self._flights:
                self._refresh(key, produce, lookup.epoch)
            return Served.of_entry(entry, "stale")
        if lookup.epoch is None:  # the backend is unavailable: straight to the database
            return Served.of_produced(await produce(), "bypass")
        flight = self._flights.get(key)
        # A flight that began before a purge read what the purge was about: never join it.
        if flight is not None and flight.epoch == lookup.epoch:
            shared = await asyncio.shield(flight.result)
            if shared is not None:
                return Served.of_produced(shared, "shared")
            return Served.of_produced(await produce(), "miss")
        produced = await self._lead(key, produce, self._take_off(key, lookup.epoch))
        return Served.of_produced(produced, "miss")

    def _take_off(self, key: str, epoch: int) -> _Flight:
        # Registered before anything awaits, so that requests in the same tick find it.
        flight = _Flight(epoch=epoch, result=asyncio.get_running_loop().create_future())
        self._flights[key] = flight
        return flight

    async def _lead(self, key: str, produce: Produce, flight: _Flight) -> Produced:
        epoch = flight.epoch
        produced: Produced | None = None
        try:
            produced = await produce()
            if produced.shareable:
                now = self.clock()
                entry = Entry(
                    body=produced.body,
                    etag=strong_etag(produced.body),
                    surrogate_keys=produced.surrogate_keys,
                    fresh_until=now + self.ttl,
                    stale_until=now + self.ttl + self.swr,
                    headers=produced.headers,
                )
                await self.backend.put(key, entry, epoch=epoch)
            return produced
        finally:
            # Stored first, then released: a request arriving in between finds the entry.
            if self._flights.get(key) is flight:
                del self._flights[key]
            flight.result.set_result(
                produced if produced is not None and produced.shareable else None
            )

    def _refresh(self, key: str, produce: Produce, epoch: int) -> None:
        flight = self._take_off(key, epoch)

        async def refresh() -> None:
            try:
                await self._lead(key, produce, flight)
            except Exception:
                logger.exception("refreshing a stale cache entry failed")

        task = asyncio.create_task(refresh())
        self._refreshes.add(task)
        task.add_done_callback(self._refreshes.discard)
