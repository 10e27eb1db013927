"""Where the per-client counters of every limit live: Redis when set, else this process.

Request and cost budgets (:mod:`cms.web.ratelimit`), login throttles (:mod:`cms.auth.throttle`)
and WebSocket connection caps (:mod:`cms.realtime.limits`) count in one store, a storage of the
``limits`` library. With ``CMS_REDIS_URL`` set it is Redis, so that every worker process draws
from the same counters and the documented rates hold once, however many workers run; without
it, the counters live in this process's memory (right for a single worker), in a
:class:`~cms.limit_store.memory.BoundedMemoryStorage`: the library's own in-process store walks
every counter after each hit, so that many clients would slow every request.

Redis is asked with short timeouts and no retries. A limit that cannot reach its store does
what its module documents (rate limits let the request through, logins are refused): an
outage must not hang every request.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from limits.aio.storage import RedisStorage, Storage

from cms.limit_store.memory import BoundedMemoryStorage

if TYPE_CHECKING:
    from redis.asyncio import ConnectionPool, Redis

__all__ = ["LimitStore"]

# The longest Redis may take to connect or answer before the limit falls back.
REDIS_TIMEOUT = 0.5


class LimitStore:
    """A ``limits`` storage, the Redis client behind it (if any), and what closing them takes.

    ``redis`` is for counters the ``limits`` library has no strategy for (WebSocket connections
    held open); keys of its own start with ``prefix`` too.
    """

    def __init__(self, redis_url: str | None = None, *, prefix: str = "cms:limits") -> None:
        self.prefix = prefix
        self.redis: Redis | None = None
        self._pool: ConnectionPool | None = None
        if redis_url is None:
            self.storage: Storage = BoundedMemoryStorage()
            return
        from redis.asyncio import ConnectionPool, Redis
        from redis.asyncio.retry import Retry
        from redis.backoff import NoBackoff

        self._pool = ConnectionPool.from_url(
            redis_url,
            socket_connect_timeout=REDIS_TIMEOUT,
            socket_timeout=REDIS_TIMEOUT,
            retry=Retry(NoBackoff(), 0),
        )
        self.redis = Redis(connection_pool=self._pool)
        # The pool says where Redis is (redis://, rediss:// or unix://); limits only needs to
        # know that it talks to Redis. It types its pass-through options as scalars.
        options: dict[str, Any] = {"connection_pool": self._pool}
        self.storage = RedisStorage(
            "async+redis://",
            implementation="redispy",
            key_prefix=prefix,
            wrap_exceptions=True,
            **options,
        )

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.disconnect()
