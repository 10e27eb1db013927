"""Automatic persisted queries (Apollo's protocol): documents remembered by their SHA-256.

A client first sends only ``extensions.persistedQuery.sha256Hash``. Unknown hashes are answered
with the ``PersistedQueryNotFound`` error, and the client sends the document along with its
hash once; the server checks the hash, runs the document, remembers it, and from then on the
hash alone will do, also over GET, which keeps URLs short enough for CDNs to cache.

What is kept is bounded, since anyone may register documents:

- only documents that ran: ``cms.graphql.view`` calls :meth:`PersistedQueries.remember` once
  the operation has parsed, validated, passed every limit and its credentials check;
- only documents of at most ``max_query_bytes`` (``CMS_APQ_MAX_QUERY_BYTES``) of UTF-8: larger
  ones run, and are asked for again next time;
- in this process, at most ``max_bytes`` (``CMS_APQ_MAX_BYTES``), least recently used out first;
- in Redis, when the cache shares one, at most ``redis_max_bytes``
  (``CMS_APQ_REDIS_MAX_BYTES``), oldest registration out first, each for ``ttl_seconds``
  (``CMS_APQ_TTL_SECONDS``) after it was last registered; so every worker knows what any
  worker learned.

Each entry counts its document's bytes plus ``ENTRY_OVERHEAD`` for its hash and bookkeeping,
so that a flood of tiny documents is bounded too.

Redis layout under the prefix (``cms:apq:``): ``<sha256>`` holds a document; ``index`` (a
sorted set) each hash by the time it expires; ``sizes`` (a hash) what each entry counts;
``bytes`` their total. A registration is one Lua script, so that workers registering at once
never overshoot the cap together.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections import OrderedDict

from redis.asyncio import Redis
from redis.exceptions import RedisError

logger = logging.getLogger("cms.cache")

NOT_FOUND_MESSAGE = "PersistedQueryNotFound"
# What an entry costs beyond its document, on the safe side: its hash as a key and as an index
# member, and the maps' own bookkeeping (measured at about 350 bytes, in Python and in Redis).
ENTRY_OVERHEAD = 512
_SHA256 = re.compile(r"[0-9a-f]{64}")

# KEYS: the document's key, index, sizes, bytes. ARGV: hash, document, time to live (ms),
# cap (bytes), overhead, key prefix. Forgets what expired, then the registered hash (to count
# it afresh), then adds it, then forgets the oldest entries while over the cap.
_REMEMBER = """
local index, sizes, total_key = KEYS[2], KEYS[3], KEYS[4]
local sha, document, ttl, cap = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local function forget(member)
  local size = tonumber(redis.call('HGET', sizes, member) or '0')
  redis.call('HDEL', sizes, member)
  redis.call('ZREM', index, member)
  redis.call('DEL', ARGV[6] .. member)
  return redis.call('DECRBY', total_key, size)
end
for _, member in ipairs(redis.call('ZRANGEBYSCORE', index, '-inf', now)) do forget(member) end
forget(sha)
local size = #document + tonumber(ARGV[5])
redis.call('SET', KEYS[1], document, 'PX', ttl)
redis.call('ZADD', index, now + ttl, sha)
redis.call('HSET', sizes, sha, size)
local total = redis.call('INCRBY', total_key, size)
while total > cap do
  local oldest = redis.call('ZRANGE', index, 0, 0)[1]
  if not oldest then break end
  total = forget(oldest)
end
return total
"""


def is_sha256(value: object) -> bool:
    return isinstance(value, str) and _SHA256.fullmatch(value) is not None


def sha256_of(query: str) -> str:
    return hashlib.sha256(query.encode()).hexdigest()


class PersistedQueries:
    """Documents by hash: in this process, and in Redis when one is shared."""

    def __init__(
        self,
        *,
        max_query_bytes: int = 16 * 1024,
        max_bytes: int = 4 * 1024 * 1024,
        redis: Redis | None = None,
        redis_max_bytes: int = 16 * 1024 * 1024,
        prefix: str = "cms:apq:",
        ttl_seconds: int = 86_400,
    ) -> None:
        self.max_query_bytes = max_query_bytes
        self.max_bytes = max_bytes
        self.redis = redis
        self.redis_max_bytes = redis_max_bytes
        self.prefix = prefix
        self.ttl_seconds = ttl_seconds
        # Each document with what it counts against max_bytes.
        self._local: OrderedDict[str, tuple[str, int]] = OrderedDict()
        self._local_bytes = 0
        self._remember_in_redis = redis.register_script(_REMEMBER) if redis else None

    @property
    def stored_bytes(self) -> int:
        """What this process holds, as counted against ``max_bytes``."""
        return self._local_bytes

    async def lookup(self, sha256: str) -> str | None:
        local = self._local.get(sha256)
        if local is not None:
            self._local.move_to_end(sha256)
            return local[0]
        if self.redis is None:
            return None
        try:
            raw = await self.redis.get(self.prefix + sha256)
        except (RedisError, OSError, TimeoutError) as exc:
            logger.warning("redis unavailable for persisted queries: %s", exc)
            return None
        if raw is None:
            return None
        query = raw.decode() if isinstance(raw, bytes) else str(raw)
        # Whatever Redis returns is checked like anything a client sends.
        if sha256_of(query) != sha256:
            return None
        self._remember_locally(sha256, query, len(raw) + ENTRY_OVERHEAD)
        return query

    async def remember(self, sha256: str, query: str) -> bool:
        """Keep ``query`` under ``sha256``, unless it is too large; whether it was kept.

        The caller has checked that the hash matches, and that the document ran.
        """
        document = query.encode()
        if len(document) > self.max_query_bytes:
            return False
        size = len(document) + ENTRY_OVERHEAD
        self._remember_locally(sha256, query, size)
        if self._remember_in_redis is None or size > self.redis_max_bytes:
            return True
        keys = [self.prefix + name for name in (sha256, "index", "sizes", "bytes")]
        ttl_ms = self.ttl_seconds * 1000
        try:
            await self._remember_in_redis(
                keys=keys,
                args=[sha256, document, ttl_ms, self.redis_max_bytes, ENTRY_OVERHEAD, self.prefix],
            )
        except (RedisError, OSError, TimeoutError) as exc:
            logger.warning("redis unavailable for persisted queries: %s", exc)
        return True

    def _remember_locally(self, sha256: str, query: str, size: int) -> None:
        previous = self._local.pop(sha256, None)
        if previous is not None:
            self._local_bytes -= previous[1]
        if size > self.max_bytes:
            return
        self._local[sha256] = (query, size)
        self._local_bytes += size
        while self._local_bytes > self.max_bytes:
            _, (_, evicted) = self._local.popitem(last=False)
            self._local_bytes -= evicted
