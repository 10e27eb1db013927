"""The in-process storage of every limit's counters, whose cost per hit does not grow with clients.

Why it exists: ``limits.aio.storage.MemoryStorage`` (limits 5.8), the library's in-process
store, starts a task after almost every hit (``incr``, ``acquire_entry``,
``acquire_sliding_window_entry``) that walks *every* stored key, with a thread hop
(``asyncio.to_thread``) per moving-window key. Measured per counted request: 0.19 ms with 1,000
counters, 1.4 ms with 10,000, 5.8 ms with 50,000. Counters are per client (IPv6 per /64, and one
/48 holds 65,536 of those), so a client that sprays addresses slows every request of every other
client: a denial of service. With this store a counted request takes about 0.02 ms whether
1,000 or 200,000 clients are held (the library's: 0.26 ms and 105 ms; bench/limit_store.py).

This storage keeps the same semantics for what :mod:`cms.web.ratelimit` (sliding window
counter), :mod:`cms.auth.throttle` (moving window; ``get``/``incr``/``clear``) and the
library's strategies ask of a store, but:

- expirations wait in a heap; at most once a second (of the storage's clock) a sweep pops what
  has expired, and only that, visiting at most ``SWEEP_BUDGET`` heap entries per operation: the
  cost is amortized O(log n) per key, never a walk over all keys. No task, no thread: every
  method runs to completion without awaiting, which is also why no locks are needed;
- reads never see an expired key (each checks the key's expiry, as the library's ``get`` does),
  so sweeping late changes memory, never answers;
- at most ``max_keys`` keys are held (memory stays bounded even while nothing has expired yet).
  Creating one more evicts the key that expires soonest, which resets that client's counter
  early, but by little: it expires no later than any key held, including the request counters
  just created, which live two minutes. An attacker who fills the store to shorten its own
  login throttle thus gains at most those two minutes, for ``max_keys`` requests from fresh
  addresses: marginal. Others' counters reset early only favours them.

Time is ``time.time()`` read at each call unless a clock is given: the library's strategies read
``time.time()`` too (window stats, for instance), so the store must agree with them, and tests
that replace ``time.time`` move both.
"""

from __future__ import annotations

import bisect
import heapq
import itertools
import math
import time
from collections.abc import Callable

from limits.aio.storage import MovingWindowSupport, SlidingWindowCounterSupport, Storage
from limits.storage.base import TimestampedSlidingWindow

__all__ = ["MAX_KEYS", "SWEEP_BUDGET", "SWEEP_INTERVAL", "BoundedMemoryStorage"]

# At most this many keys (counters and moving windows together). A request counter costs about
# 400 bytes here (record, heap entry, key string; bench/limit_store.py), so ~80 MB at the cap;
# one worker reaches it only if over 1,600 new clients a second keep coming for two minutes (the
# life of a request counter).
MAX_KEYS = 200_000
# Seconds between sweeps of expired keys.
SWEEP_INTERVAL = 1.0
# Heap entries one operation's sweep may visit; a backlog (a jump of the clock, a burst of keys
# created together) is worked off by the following operations rather than stalling one.
SWEEP_BUDGET = 1_000
# Stale heap entries (of cleared keys) tolerated beyond one per live key before a rebuild.
COMPACT_SLACK = 1_024


def _wall_clock() -> float:
    # Looked up at each call, not bound at import, so that a replaced time.time is seen.
    return time.time()


class _Record:
    """One key: a counter (``count``) or a moving window (``entries``, newest first)."""

    __slots__ = ("count", "entries", "expires_at", "home", "key", "scheduled")

    def __init__(self, key: str, home: dict[str, _Record]) -> None:
        self.key = key
        self.home = home  # the table holding it: counters or windows
        self.count = 0
        self.entries: list[float] = []
        self.expires_at = 0.0
        # When its current heap entry falls due (inf: none); expires_at is never earlier.
        self.scheduled = math.inf


class BoundedMemoryStorage(
    Storage, MovingWindowSupport, SlidingWindowCounterSupport, TimestampedSlidingWindow
):
    """Counters and moving windows of this process, expired by a heap, at most ``max_keys``."""

    STORAGE_SCHEME = None  # not for limits.storage_from_string: LimitStore builds it

    def __init__(
        self, *, max_keys: int = MAX_KEYS, clock: Callable[[], float] | None = None
    ) -> None:
        super().__init__()
        self.max_keys = max_keys
        self.clock = clock or _wall_clock
        self._counters: dict[str, _Record] = {}
        self._windows: dict[str, _Record] = {}
        # (due, sequence, record): the sequence breaks ties, records do not compare.
        self._heap: list[tuple[float, int, _Record]] = []
        self._sequence = itertools.count()
        self._next_sweep = -math.inf
        self.visited = 0
        """Heap entries the sweeps and evictions have visited: for tests and measurements."""
        self.evicted = 0
        """Keys evicted at ``max_keys`` before they expired."""

    def __len__(self) -> int:
        return len(self._counters) + len(self._windows)

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        return ValueError  # as the library's MemoryStorage; nothing here raises it

    # Counters (fixed windows, the login failure count, the sliding window's two halves).

    async def incr(self, key: str, expiry: float, amount: int = 1) -> int:
        return self._incr(key, expiry, amount, self._tick())

    def _incr(self, key: str, expiry: float, amount: int, now: float) -> int:
        record = self._live(self._counters, key, now) or self._create(self._counters, key, now)
        record.count += amount
        if record.count == amount:
            # Like the library: a counter's expiry is set when it starts (or restarts from 0).
            record.expires_at = now + expiry
            self._schedule(record)
        return record.count

    async def decr(self, key: str, amount: int = 1) -> int:
        record = self._live(self._counters, key, self._tick())
        if record is None:
            return 0
        record.count = max(record.count - amount, 0)
        return record.count

    async def get(self, key: str) -> int:
        record = self._live(self._counters, key, self._tick())
        return record.count if record else 0

    async def get_expiry(self, key: str) -> float:
        now = self._tick()
        record = self._live(self._counters, key, now)
        return record.expires_at if record else now

    async def clear(self, key: str) -> None:
        self._counters.pop(key, None)
        self._windows.pop(key, None)
        # Their heap entries stay until due (or a compaction): they are skipped as stale.

    async def check(self) -> bool:
        return True

    async def reset(self) -> int | None:
        held = len(self)
        self._counters.clear()
        self._windows.clear()
        self._heap.clear()
        return held

    # Moving windows (the login throttles): timestamps of the hits inside the window.

    async def acquire_entry(self, key: str, limit: int, expiry: int, amount: int = 1) -> bool:
        if amount > limit:
            return False
        now = self._tick()
        record = self._live(self._windows, key, now)
        entries = record.entries if record else []
        # Full when the hit `amount` places before the newest is still inside the window.
        if len(entries) > limit - amount and entries[limit - amount] >= now - expiry:
            return False
        if amount <= 0:
            return True
        if record is None:
            record = self._create(self._windows, key, now)
            entries = record.entries
        entries[:0] = [now] * amount
        # Entries past `limit` are outside the window (the check above saw to it): drop them.
        del entries[limit:]
        record.expires_at = max(record.expires_at, now + expiry)
        self._schedule(record)
        return True

    async def get_moving_window(self, key: str, limit: int, expiry: int) -> tuple[float, int]:
        now = self._tick()
        record = self._live(self._windows, key, now)
        if record is None:
            return now, 0
        # Entries are newest first: count those after the window's start, as the library does.
        inside = bisect.bisect_left(record.entries, expiry - now, key=lambda at: -at)
        if inside == 0:
            return now, 0
        return record.entries[inside - 1], inside

    # Sliding window counters (requests and cost per minute): the library's arithmetic.

    async def acquire_sliding_window_entry(
        self, key: str, limit: int, expiry: int, amount: int = 1
    ) -> bool:
        if amount > limit:
            return False
        now = self._tick()
        previous_key, current_key = self.sliding_window_keys(key, expiry, now)
        previous, previous_ttl, current, _ = self._window_info(
            previous_key, current_key, expiry, now
        )
        if math.floor(previous * previous_ttl / expiry + current) + amount > limit:
            return False
        # Nothing awaits between the check and the count: no other hit can slip in between, so
        # the library's re-check and revert (decr) for that race are not needed.
        self._incr(current_key, 2 * expiry, amount, now)
        return True

    async def get_sliding_window(self, key: str, expiry: int) -> tuple[int, float, int, float]:
        now = self._tick()
        previous_key, current_key = self.sliding_window_keys(key, expiry, now)
        return self._window_info(previous_key, current_key, expiry, now)

    async def clear_sliding_window(self, key: str, expiry: int) -> None:
        previous_key, current_key = self.sliding_window_keys(key, expiry, self._tick())
        await self.clear(current_key)
        await self.clear(previous_key)

    def _window_info(
        self, previous_key: str, current_key: str, expiry: int, now: float
    ) -> tuple[int, float, int, float]:
        previous_record = self._live(self._counters, previous_key, now)
        current_record = self._live(self._counters, current_key, now)
        previous = previous_record.count if previous_record else 0
        current = current_record.count if current_record else 0
        previous_ttl = 0.0 if previous == 0 else (1 - (((now - expiry) / expiry) % 1)) * expiry
        current_ttl = (1 - ((now / expiry) % 1)) * expiry + expiry
        return previous, previous_ttl, current, current_ttl

    # Bookkeeping.

    def _tick(self) -> float:
        """The time now, after sweeping expired keys if a sweep is due."""
        now = self.clock()
        if now >= self._next_sweep:
            self._sweep(now)
        return now

    def _sweep(self, now: float) -> None:
        heap = self._heap
        budget = SWEEP_BUDGET
        while heap and heap[0][0] <= now and budget:
            budget -= 1
            _, record = self._pop()
            if record is None:
                continue
            if record.expires_at <= now:
                del record.home[record.key]
            else:
                self._schedule(record)  # hit again since it was scheduled: due later
        # A backlog left by the budget is taken up by the next operation, not a second later.
        backlog = bool(heap) and heap[0][0] <= now
        self._next_sweep = now if backlog else now + SWEEP_INTERVAL

    def _create(self, table: dict[str, _Record], key: str, now: float) -> _Record:
        """A new record under ``key``, after evicting the soonest to expire if at the cap."""
        while len(self) >= self.max_keys and self._heap:
            due, record = self._pop()
            if record is None:
                continue
            if record.expires_at > max(due, now):
                self._schedule(record)  # hit again since: another may expire sooner
                continue
            del record.home[record.key]
            if record.expires_at > now:
                self.evicted += 1
        record = _Record(key, table)
        table[key] = record
        return record

    def _live(self, table: dict[str, _Record], key: str, now: float) -> _Record | None:
        record = table.get(key)
        if record is not None and record.expires_at <= now:
            del table[key]  # its heap entry is now stale
            return None
        return record

    def _pop(self) -> tuple[float, _Record | None]:
        """The heap's first entry: when it fell due, and its record (None if stale)."""
        due, _, record = heapq.heappop(self._heap)
        self.visited += 1
        if record.home.get(record.key) is not record or due != record.scheduled:
            return due, None  # cleared or expired meanwhile, or superseded by an earlier entry
        record.scheduled = math.inf
        return due, record

    def _schedule(self, record: _Record) -> None:
        """Make sure a heap entry falls due no later than the record expires."""
        if record.expires_at >= record.scheduled:
            return  # its entry falls due first; the sweep then pushes it back to expires_at
        record.scheduled = record.expires_at
        heapq.heappush(self._heap, (record.expires_at, next(self._sequence), record))
        if len(self._heap) > 2 * len(self) + COMPACT_SLACK:
            self._compact()

    def _compact(self) -> None:
        """Rebuild the heap from the live records: O(n), after at least n stale entries."""
        entries = []
        for table in (self._counters, self._windows):
            for record in table.values():
                record.scheduled = record.expires_at
                entries.append((record.expires_at, next(self._sequence), record))
        self._heap[:] = entries  # in place: a sweep may be holding the list
        heapq.heapify(self._heap)
