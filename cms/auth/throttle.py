"""Login throttling that slows guessing without letting a stranger lock an account.

Three counters, kept in the app's :class:`~cms.limit_store.LimitStore` (so shared by every
worker when Redis is configured), decide whether a login attempt may check its password:

- **per account and address**: at most ``burst`` attempts on one account from one client
  address (IPv6: its /64) in any ``burst * refill_seconds`` seconds. A successful login clears
  it. Failures elsewhere never touch it, so nobody can lock the owner out from another address;
- **per address**: three times that, whatever the accounts (several people may share an
  address): one address cannot spray passwords across many accounts;
- **account back-off**: every failure on an account, from anywhere, is counted for an hour.
  Past ``burst`` failures each address may try that account once per back-off period, which
  starts at ``refill_seconds`` and doubles each time the failures double, up to
  ``max_backoff`` seconds. An address that has not tried the account during the current
  period always gets its attempt: the owner's correct password goes through at once from a
  fresh address, and after at most ``max_backoff`` seconds from any address; guessing from
  many addresses costs one guess per address and period.

An attempt takes from its counters *before* any password is hashed, atomically in the store,
so that concurrent attempts (ten aliased ``login`` fields in one request) cannot all pass a
check before one of them is counted. A refused attempt is told how long to wait and hashes
nothing; it counts against none of its counters (barring a race with a concurrent attempt).

When the store cannot be reached, logins are refused for a moment: failing open would let
guessing run unthrottled.
"""

from __future__ import annotations

import hashlib
import math
import time

from limits import RateLimitItem, RateLimitItemPerHour, RateLimitItemPerSecond
from limits.aio.strategies import MovingWindowRateLimiter
from limits.errors import StorageError

from cms.limit_store import LimitStore
from cms.observability.logging import get_logger

__all__ = ["LoginThrottle"]

FAILURE_WINDOW = RateLimitItemPerHour(1, namespace="login-failures")
UNAVAILABLE_WAIT = 5.0
ADDRESS_BURSTS = 3

log = get_logger("cms.auth.throttle")


class LoginThrottle:
    """Decides whether a login attempt may check its password, and learns how it went."""

    def __init__(
        self,
        store: LimitStore,
        *,
        burst: int = 10,
        refill_seconds: float = 30.0,
        max_backoff: float = 900.0,
    ) -> None:
        self.storage = store.storage
        self.limiter = MovingWindowRateLimiter(store.storage)
        self.burst = burst
        self.refill_seconds = refill_seconds
        self.max_backoff = max_backoff
        period = math.ceil(burst * refill_seconds)
        self.per_address = RateLimitItemPerSecond(
            ADDRESS_BURSTS * burst, period, namespace="login-address"
        )
        self.per_pair = RateLimitItemPerSecond(burst, period, namespace="login-pair")

    async def attempt(self, account: str, address: str) -> float:
        """Count one attempt by ``address`` on ``account``: 0 if it may go on, else seconds."""
        account = _account_key(account)
        try:
            limits: list[tuple[RateLimitItem, tuple[str, ...]]] = [
                (self.per_address, (address,)),
                (self.per_pair, (account, address)),
            ]
            failures = await self.storage.get(FAILURE_WINDOW.key_for(account))
            backoff = self.backoff(failures)
            if backoff:
                gate = RateLimitItemPerSecond(1, backoff, namespace="login-backoff")
                limits.append((gate, (account, address)))
            for item, keys in limits:
                if not await self.limiter.test(item, *keys):
                    return await self._wait(item, keys)
            for item, keys in limits:
                if not await self.limiter.hit(item, *keys):
                    return await self._wait(item, keys)
        except StorageError as exc:
            log.warning("login throttle store unreachable", error=str(exc))
            return UNAVAILABLE_WAIT
        return 0.0

    async def failed(self, account: str) -> None:
        """Record a failed attempt on ``account`` (it lengthens the account's back-off)."""
        account = _account_key(account)
        try:
            await self.storage.incr(FAILURE_WINDOW.key_for(account), FAILURE_WINDOW.get_expiry())
        except StorageError as exc:
            log.warning("login throttle store unreachable", error=str(exc))

    async def succeeded(self, account: str, address: str) -> None:
        """Forget the failures of ``address`` on ``account``: its owner is back."""
        account = _account_key(account)
        try:
            await self.limiter.clear(self.per_pair, account, address)
        except StorageError as exc:
            log.warning("login throttle store unreachable", error=str(exc))

    async def failures(self, account: str) -> int:
        """Failed attempts on ``account`` in the last hour (roughly: the count expires whole)."""
        return int(await self.storage.get(FAILURE_WINDOW.key_for(_account_key(account))))

    def backoff(self, failures: int) -> int:
        """Seconds each address must leave between attempts on an account with ``failures``."""
        if failures < self.burst:
            return 0
        doublings = int(math.log2(failures / self.burst))
        return math.ceil(min(self.max_backoff, math.ldexp(self.refill_seconds, doublings)))

    async def _wait(self, item: RateLimitItem, keys: tuple[str, ...]) -> float:
        stats = await self.limiter.get_window_stats(item, *keys)
        return max(1.0, stats.reset_time - time.time())


def _account_key(account: str) -> str:
    # A digest: the store holds no email addresses, and a 100 KB "email" makes a short key.
    return hashlib.sha256(account.encode("utf-8", "surrogatepass")).hexdigest()[:32]
