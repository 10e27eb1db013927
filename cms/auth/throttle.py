"""Login throttling: token buckets per account and per client address, kept in this process.

Each key (a normalised email address, a client address) owns a bucket holding up to ``burst``
attempts that refills at one attempt per ``refill_seconds``. Every login attempt, successful or
not, takes one attempt from both of its buckets *before* any password is hashed, and takes it
synchronously: concurrent attempts (say, ten aliased ``login`` fields in one request) cannot all
pass the check before one of them is counted. When either bucket is empty the attempt is refused
with the time until it would be allowed, and no hashing happens.

The state lives in memory, so it is per process: with several workers each keeps its own
buckets and an attacker gets ``burst`` attempts per worker. A shared store (Redis) is needed for
multi-worker deployments.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = ["LoginThrottle", "TokenBucket"]

Clock = Callable[[], float]


@dataclass
class TokenBucket:
    """Up to ``capacity`` attempts, refilled continuously at ``rate`` attempts per second."""

    capacity: float
    rate: float
    tokens: float
    updated_at: float

    def refill(self, now: float) -> None:
        elapsed = max(0.0, now - self.updated_at)
        self.tokens = min(self.capacity, self.tokens + elapsed * self.rate)
        self.updated_at = now

    def wait_time(self) -> float:
        """Seconds until one whole attempt is available (0 if one is available now)."""
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.rate

    def is_full(self) -> bool:
        return self.tokens >= self.capacity


@dataclass
class LoginThrottle:
    """Allows a burst of ``burst`` login attempts per key, then one per ``refill_seconds``."""

    burst: int = 10
    refill_seconds: float = 30.0
    clock: Clock = time.monotonic
    # Buckets of keys nobody has tried lately are dropped once this many exist, so that a
    # spray of made-up email addresses cannot grow memory without bound.
    max_keys: int = 100_000
    _buckets: dict[str, TokenBucket] = field(default_factory=dict, init=False, repr=False)

    def attempt(self, *keys: str) -> float:
        """Count one attempt against every key; 0 if allowed, else seconds to wait.

        A refused attempt counts against none of the keys.
        """
        now = self.clock()
        buckets = [self._bucket(key, now) for key in keys]
        wait = max((bucket.wait_time() for bucket in buckets), default=0.0)
        if wait > 0:
            return wait
        for bucket in buckets:
            bucket.tokens -= 1
        return 0.0

    def _bucket(self, key: str, now: float) -> TokenBucket:
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= self.max_keys:
                self._forget_idle(now)
            bucket = self._buckets[key] = TokenBucket(
                capacity=self.burst,
                rate=1 / self.refill_seconds,
                tokens=self.burst,
                updated_at=now,
            )
        else:
            bucket.refill(now)
        return bucket

    def _forget_idle(self, now: float) -> None:
        for key, bucket in list(self._buckets.items()):
            bucket.refill(now)
            if bucket.is_full():  # a full bucket is the same as no bucket
                del self._buckets[key]
        # Still full of throttled keys: drop the oldest rather than refuse to track new ones.
        while len(self._buckets) >= self.max_keys:
            del self._buckets[next(iter(self._buckets))]
