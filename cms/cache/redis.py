"""The Redis cache backend: one cache for every worker, purged for all of them at once.

Layout under a key prefix (``cms:cache:``):

- ``e:<response key>``: an entry, a JSON header line then the body, expiring when it turns
  too stale to serve;
- ``s:<surrogate key>``: the set of entry keys indexed under that surrogate key;
- ``epoch``: incremented by every purge.

A purge deletes the entries of its surrogate keys and advances the epoch in one Lua script,
so that when the write that caused it returns, no worker can read those entries any more.
A store runs as a script too and refuses when the epoch moved since its request began (see
``cms.cache.backend``). A lookup is one ``MGET`` of the entry and the epoch.

Redis being down is not an error for readers: calls fail fast (no retries, short timeouts),
the cache answers "miss", and for ``retry_after`` seconds Redis is not asked at all, so requests
go to the database at full speed. A purge that could not reach Redis is remembered: the first
call that reaches it again empties the whole cache before anything is read.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Collection
from typing import Any

import orjson
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from cms.cache.backend import Entry, Lookup

logger = logging.getLogger("cms.cache")

_PUT = """
if (redis.call('GET', KEYS[1]) or '0') ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3])
for i = 3, #KEYS do
  redis.call('SADD', KEYS[i], KEYS[2])
  redis.call('PEXPIRE', KEYS[i], ARGV[3])
end
return 1
"""

_PURGE = """
redis.call('INCR', KEYS[1])
for i = 2, #KEYS do
  for _, member in ipairs(redis.call('SMEMBERS', KEYS[i])) do
    redis.call('DEL', member)
  end
  redis.call('DEL', KEYS[i])
end
return 1
"""

_Unavailable = (RedisError, OSError, TimeoutError)


class RedisBackend:
    def __init__(
        self,
        url: str,
        *,
        prefix: str = "cms:cache:",
        timeout: float = 0.5,
        retry_after: float = 2.0,
        client: Redis | None = None,
    ) -> None:
        self.redis: Redis = client or Redis.from_url(
            url,
            socket_connect_timeout=timeout,
            socket_timeout=timeout,
            retry=Retry(NoBackoff(), 0),
        )
        self.prefix = prefix
        self.retry_after = retry_after
        self._epoch_key = f"{prefix}epoch"
        self._put = self.redis.register_script(_PUT)
        self._purge = self.redis.register_script(_PURGE)
        self._down_until = 0.0
        self._purge_lost = False

    async def get(self, key: str) -> Lookup:
        if not await self._usable():
            return Lookup(entry=None, epoch=None)
        try:
            raw, epoch = await self.redis.mget(self._entry_key(key), self._epoch_key)
        except _Unavailable as exc:
            self._failed("get", exc)
            return Lookup(entry=None, epoch=None)
        entry = _decode(raw) if isinstance(raw, bytes) else None
        if entry is not None and entry.stale_until <= time.time():
            entry = None
        return Lookup(entry=entry, epoch=int(epoch or 0))

    async def put(self, key: str, entry: Entry, *, epoch: int) -> bool:
        if not await self._usable():
            return False
        ttl_ms = int((entry.stale_until - time.time()) * 1000)
        if ttl_ms <= 0:
            return False
        keys = [
            self._epoch_key,
            self._entry_key(key),
            *(f"{self.prefix}s:{surrogate}" for surrogate in sorted(entry.surrogate_keys)),
        ]
        try:
            stored = await self._put(keys=keys, args=[str(epoch), _encode(entry), ttl_ms])
        except _Unavailable as exc:
            self._failed("put", exc)
            return False
        return bool(stored)

    async def purge(self, surrogate_keys: Collection[str]) -> None:
        keys = [self._epoch_key, *(f"{self.prefix}s:{key}" for key in sorted(surrogate_keys))]
        try:
            await self._purge(keys=keys, args=[])
        except _Unavailable as exc:
            self._purge_lost = True
            self._failed("purge", exc)

    async def purge_all(self) -> None:
        try:
            await self._flush()
        except _Unavailable as exc:
            self._purge_lost = True
            self._failed("purge_all", exc)

    async def close(self) -> None:
        await self.redis.aclose()

    async def _usable(self) -> bool:
        if self._down_until > time.monotonic():
            return False
        if self._purge_lost:
            # Entries a lost purge should have dropped may still be there: drop everything.
            try:
                await self._flush()
            except _Unavailable as exc:
                self._failed("recovery", exc)
                return False
            self._purge_lost = False
            logger.warning("redis is back: emptied the response cache after a lost purge")
        return True

    async def _flush(self) -> None:
        await self.redis.incr(self._epoch_key)
        batch: list[Any] = []
        async for key in self.redis.scan_iter(match=f"{self.prefix}[es]:*", count=500):
            batch.append(key)
            if len(batch) >= 500:
                await self.redis.unlink(*batch)
                batch.clear()
        if batch:
            await self.redis.unlink(*batch)

    def _failed(self, operation: str, exc: BaseException) -> None:
        if self._down_until <= time.monotonic():
            logger.warning(
                "redis unavailable during %s (%s): serving from the database for %.0f s",
                operation,
                exc,
                self.retry_after,
            )
        self._down_until = time.monotonic() + self.retry_after

    def _entry_key(self, key: str) -> str:
        return f"{self.prefix}e:{key}"


def _encode(entry: Entry) -> bytes:
    header = orjson.dumps(
        {
            "etag": entry.etag,
            "keys": sorted(entry.surrogate_keys),
            "fresh": entry.fresh_until,
            "stale": entry.stale_until,
            "headers": entry.headers,
        }
    )
    return header + b"\n" + entry.body


def _decode(raw: bytes) -> Entry | None:
    header, _, body = raw.partition(b"\n")
    try:
        meta = orjson.loads(header)
        return Entry(
            body=body,
            etag=meta["etag"],
            surrogate_keys=frozenset(meta["keys"]),
            fresh_until=float(meta["fresh"]),
            stale_until=float(meta["stale"]),
            headers=tuple((str(name), str(value)) for name, value in meta.get("headers", ())),
        )
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
        return None
