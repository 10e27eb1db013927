"""Automatic persisted queries (Apollo's protocol): documents remembered by their SHA-256.

A client first sends only ``extensions.persistedQuery.sha256Hash``. Unknown hashes are answered
with the ``PersistedQueryNotFound`` error, and the client sends the document along with its
hash once; the server checks the hash, remembers the document, and from then on the hash
alone will do, also over GET, which keeps URLs short enough for CDNs to cache.

Documents are kept in a bounded in-process map, and in Redis (for a day after their last
registration) when the cache shares one, so that every worker knows what any worker learned.
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
NOT_FOUND_CODE = "PERSISTED_QUERY_NOT_FOUND"
_SHA256 = re.compile(r"[0-9a-f]{64}")


def is_sha256(value: object) -> bool:
    return isinstance(value, str) and _SHA256.fullmatch(value) is not None


def sha256_of(query: str) -> str:
    return hashlib.sha256(query.encode()).hexdigest()


class PersistedQueries:
    """Documents by hash: in this process, and in Redis when one is shared."""

    def __init__(
        self,
        *,
        max_entries: int = 2000,
        redis: Redis | None = None,
        prefix: str = "cms:apq:",
        ttl_seconds: int = 86_400,
    ) -> None:
        self.max_entries = max_entries
        self.redis = redis
        self.prefix = prefix
        self.ttl_seconds = ttl_seconds
        self._local: OrderedDict[str, str] = OrderedDict()

    async def lookup(self, sha256: str) -> str | None:
        query = self._local.get(sha256)
        if query is not None:
            self._local.move_to_end(sha256)
            return query
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
        self._remember_locally(sha256, query)
        return query

    async def remember(self, sha256: str, query: str) -> None:
        """Keep ``query`` under ``sha256``; the caller has checked that the hash matches."""
        self._remember_locally(sha256, query)
        if self.redis is None:
            return
        try:
            await self.redis.set(self.prefix + sha256, query.encode(), ex=self.ttl_seconds)
        except (RedisError, OSError, TimeoutError) as exc:
            logger.warning("redis unavailable for persisted queries: %s", exc)

    def _remember_locally(self, sha256: str, query: str) -> None:
        self._local[sha256] = query
        self._local.move_to_end(sha256)
        while len(self._local) > self.max_entries:
            self._local.popitem(last=False)
