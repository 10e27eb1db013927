"""The in-process cache backend: a least-recently-used map bounded by bytes."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Collection

from cms.cache.backend import Entry, Lookup


class MemoryBackend:
    """Entries of one worker process. Purges are synchronous, so they are never missed."""

    def __init__(self, *, max_bytes: int, clock: Callable[[], float] = time.time) -> None:
        self.max_bytes = max_bytes
        self.clock = clock
        self.epoch = 0
        self._entries: OrderedDict[str, Entry] = OrderedDict()
        self._by_surrogate: dict[str, set[str]] = {}
        self._bytes = 0

    @property
    def size(self) -> int:
        """Bytes held, as counted against ``max_bytes``."""
        return self._bytes

    def __len__(self) -> int:
        return len(self._entries)

    async def get(self, key: str) -> Lookup:
        entry = self._entries.get(key)
        if entry is not None:
            if entry.stale_until <= self.clock():
                self._drop(key)
                entry = None
            else:
                self._entries.move_to_end(key)
        return Lookup(entry=entry, epoch=self.epoch)

    async def put(self, key: str, entry: Entry, *, epoch: int) -> bool:
        if epoch != self.epoch or entry.size > self.max_bytes:
            return False
        self._drop(key)
        self._entries[key] = entry
        self._bytes += entry.size
        for surrogate in entry.surrogate_keys:
            self._by_surrogate.setdefault(surrogate, set()).add(key)
        while self._bytes > self.max_bytes:
            self._drop(next(iter(self._entries)))
        return True

    async def purge(self, surrogate_keys: Collection[str]) -> None:
        self.epoch += 1
        for surrogate in surrogate_keys:
            for key in self._by_surrogate.pop(surrogate, ()):
                self._drop(key)

    async def purge_all(self) -> None:
        self.epoch += 1
        self._entries.clear()
        self._by_surrogate.clear()
        self._bytes = 0

    async def close(self) -> None:
        return None

    def _drop(self, key: str) -> None:
        entry = self._entries.pop(key, None)
        if entry is None:
            return
        self._bytes -= entry.size
        for surrogate in entry.surrogate_keys:
            keys = self._by_surrogate.get(surrogate)
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del self._by_surrogate[surrogate]
