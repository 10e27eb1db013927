"""Caching of public reads: the response cache, its backends, and persisted queries.

``build_response_cache(settings)`` picks the backend: Redis when ``CMS_REDIS_URL`` is set (one
cache for every worker), otherwise a bounded in-process map; None when ``CMS_CACHE=off``.
"""

from __future__ import annotations

from redis.asyncio import Redis

from cms.cache.apq import PersistedQueries
from cms.cache.backend import Backend, Entry, Lookup
from cms.cache.memory import MemoryBackend
from cms.cache.redis import RedisBackend
from cms.cache.response import Produced, ResponseCache, Served
from cms.settings import Settings

__all__ = [
    "Backend",
    "Entry",
    "Lookup",
    "MemoryBackend",
    "PersistedQueries",
    "Produced",
    "RedisBackend",
    "ResponseCache",
    "Served",
    "build_persisted_queries",
    "build_response_cache",
]


def build_response_cache(settings: Settings) -> ResponseCache | None:
    if not settings.cache:
        return None
    backend: Backend = (
        RedisBackend(settings.redis_url)
        if settings.redis_url
        else MemoryBackend(max_bytes=settings.cache_max_bytes)
    )
    return ResponseCache(backend, ttl=settings.cache_ttl, swr=settings.cache_swr)


def build_persisted_queries(settings: Settings) -> PersistedQueries:
    redis = Redis.from_url(settings.redis_url) if settings.redis_url else None
    return PersistedQueries(
        max_query_bytes=settings.apq_max_query_bytes,
        max_bytes=settings.apq_max_bytes,
        redis=redis,
        redis_max_bytes=settings.apq_redis_max_bytes,
        ttl_seconds=settings.apq_ttl_seconds,
    )
