"""The storage side of the response cache: entries, surrogate-key purges and the purge epoch.

A backend stores bodies under response keys, indexes them by their surrogate keys, and keeps
an *epoch* that every purge increments. ``put`` takes the epoch its caller observed before it
started reading the database and refuses to store once a purge has happened since: a response
computed from rows that a concurrent write has just changed must not outlive the purge that
write caused.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Entry:
    """One cached response body and what it depends on (times are ``time.time()`` seconds)."""

    body: bytes
    etag: str
    surrogate_keys: frozenset[str]
    fresh_until: float
    stale_until: float
    # Headers the operation set beyond the cache's own (e.g. a deprecation notice).
    headers: tuple[tuple[str, str], ...] = ()

    @property
    def size(self) -> int:
        # The body dominates; the rest is a rough allowance for the entry and its index.
        return len(self.body) + 200 + 64 * len(self.surrogate_keys)


@dataclass(frozen=True)
class Lookup:
    entry: Entry | None
    # The purge epoch when the lookup was made; None when the backend could not be asked.
    epoch: int | None


class Backend(Protocol):
    async def get(self, key: str) -> Lookup:
        """The entry under ``key`` (None if absent or expired) and the current epoch."""

    async def put(self, key: str, entry: Entry, *, epoch: int) -> bool:
        """Store ``entry`` unless a purge happened since ``epoch``; whether it was stored."""

    async def purge(self, surrogate_keys: Collection[str]) -> None:
        """Drop every entry indexed under any of ``surrogate_keys`` and advance the epoch."""

    async def purge_all(self) -> None:
        """Drop every entry and advance the epoch."""

    async def close(self) -> None: ...
