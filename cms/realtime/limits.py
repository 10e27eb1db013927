"""How many WebSocket connections each client may hold open at once.

A client is :func:`cms.web.client_address.client_key` of its address: IPv6 clients are counted
per /64, since one host can take a new address of its /64 for every connection. Behind a
reverse proxy the address is the one :mod:`cms.web.proxies` resolved (``CMS_TRUSTED_PROXIES``),
or every client shares the proxy's address and its allowance.

:class:`ConnectionLimiter` counts in this process (one worker). With ``CMS_REDIS_URL`` set,
:class:`SharedConnectionLimiter` counts in Redis, once for all workers: each open connection
is a member of its client's sorted set, with a lease of ``LEASE_SECONDS`` that the connection
renews while it lives, so that the connections of a worker that died without closing them
stop counting when their leases run out. When Redis cannot be reached, connections are let in
(and logged): counting them is not worth refusing every client.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from typing import TYPE_CHECKING

from cms.observability.logging import get_logger

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = ["LEASE_SECONDS", "ConnectionLimiter", "Connections", "SharedConnectionLimiter"]

LEASE_SECONDS = 60
RENEW_EVERY = LEASE_SECONDS / 3

log = get_logger("cms.realtime.limits")

# Drop expired leases, then add this connection's if the client holds fewer than the limit.
# Times are Redis's own (TIME), so that workers whose clocks differ agree.
_ACQUIRE = """
local now = redis.call('TIME')
local now_ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local lease_ms = tonumber(ARGV[3]) * 1000
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now_ms)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then
    return 0
end
redis.call('ZADD', KEYS[1], now_ms + lease_ms, ARGV[1])
redis.call('PEXPIRE', KEYS[1], lease_ms)
return 1
"""
# Extend this connection's lease (only if it still holds one).
_RENEW = """
local now = redis.call('TIME')
local now_ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local lease_ms = tonumber(ARGV[2]) * 1000
if redis.call('ZADD', KEYS[1], 'XX', 'CH', now_ms + lease_ms, ARGV[1]) == 1 then
    redis.call('PEXPIRE', KEYS[1], lease_ms)
end
return 1
"""
_UNAVAILABLE = (OSError, TimeoutError)


class ConnectionLimiter:
    """Counts open connections per client key in this process, refusing those past ``limit``."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._open: Counter[str] = Counter()

    @asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[bool]:
        """Count a connection of ``key`` while the block runs; yields False (nothing counted)
        when ``key`` already holds ``limit``."""
        if self._open[key] >= self.limit:
            yield False
            return
        self._open[key] += 1
        try:
            yield True
        finally:
            self._open[key] -= 1
            if self._open[key] <= 0:
                # Forget idle clients, so that the counter does not grow with every one seen.
                del self._open[key]

    async def open_connections(self, key: str) -> int:
        return self._open[key]


class SharedConnectionLimiter:
    """Counts open connections per client key in Redis, for every worker together."""

    def __init__(self, redis: Redis, limit: int, *, prefix: str) -> None:
        from redis.exceptions import RedisError

        self.limit = limit
        self.redis = redis
        self.prefix = prefix
        self._acquire = redis.register_script(_ACQUIRE)
        self._renew = redis.register_script(_RENEW)
        self._unavailable = (*_UNAVAILABLE, RedisError)

    @asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[bool]:
        """Count a connection of ``key`` while the block runs, across workers; yields False
        (nothing counted) when ``key`` already holds ``limit``."""
        redis_key = self._key(key)
        member = uuid.uuid4().hex
        try:
            admitted = bool(await self._acquire([redis_key], [member, self.limit, LEASE_SECONDS]))
        except self._unavailable as exc:
            log.warning("connection count unreachable", error=str(exc))
            admitted = None
        if not admitted:
            yield admitted is None  # let in uncounted when Redis is unreachable
            return
        renewing = asyncio.create_task(self._keep(redis_key, member))
        try:
            yield True
        finally:
            renewing.cancel()
            with suppress(asyncio.CancelledError):
                await renewing
            with suppress(*self._unavailable):
                await self.redis.zrem(redis_key, member)

    async def open_connections(self, key: str) -> int:
        return int(await self.redis.zcard(self._key(key)))

    async def _keep(self, redis_key: str, member: str) -> None:
        while True:
            await asyncio.sleep(RENEW_EVERY)
            try:
                await self._renew([redis_key], [member, LEASE_SECONDS])
            except self._unavailable as exc:
                log.warning("connection count unreachable", error=str(exc))

    def _key(self, key: str) -> str:
        return f"{self.prefix}:ws-connections:{key}"


Connections = ConnectionLimiter | SharedConnectionLimiter
