"""Runtime configuration, read once from ``CMS_*`` environment variables."""

from __future__ import annotations

import ipaddress
from datetime import timedelta
from functools import cached_property
from typing import Annotated, Any, Literal
from urllib.parse import unquote, urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

LogLevel = Literal["debug", "info", "warning", "error", "critical"]

# Database passwords that come with images, tutorials and docker-compose files: production
# refuses them (see Settings._production_ready).
WELL_KNOWN_PASSWORDS = frozenset(
    {"", "postgres", "password", "changeme", "change-me", "secret", "admin", "root", "cms", "test"}
)

# Production wants /metrics' token (CMS_METRICS_TOKEN) at least this long.
MIN_METRICS_TOKEN = 16


def _database_password_problems(url: str) -> list[str]:
    """What production refuses in a server database URL's password: none, or a well-known one
    in any case (``Postgres`` is as guessable as ``postgres``)."""
    password = urlsplit(url).password
    if not password:
        return ["CMS_DATABASE_URL has no password: the database must require one"]
    if unquote(password).lower() in WELL_KNOWN_PASSWORDS:
        return ["CMS_DATABASE_URL has a well-known default password: choose a real one"]
    return []


class Settings(BaseSettings):
    """Every knob the CMS has. Validated when the app or the CLI starts."""

    # hide_input_in_errors: a refused setting must not print the database URL's password.
    model_config = SettingsConfigDict(
        env_prefix="CMS_", env_file=".env", extra="ignore", hide_input_in_errors=True
    )

    env: Literal["development", "production", "test"] = "development"
    database_url: str = "sqlite://cms.sqlite3"
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    workers: int = Field(default=1, ge=1)
    log_level: LogLevel = "info"
    graphiql: bool = True
    # Load GraphiQL's pinned scripts from the jsDelivr CDN (with SRI) instead of the local
    # files `make assets` installs: for machines without npm. The page then needs the network.
    graphiql_cdn: bool = False
    default_page_size: int = Field(default=20, ge=1)
    max_page_size: int = Field(default=100, ge=1)
    # Response cache for anonymous reads (cms.cache). CMS_CACHE=off turns it off. Entries are
    # fresh for cache_ttl seconds, then served stale for up to cache_swr more while one
    # request refreshes them; content changes purge the entries they affect at once.
    cache: bool = True
    cache_ttl: float = Field(default=60.0, gt=0)
    cache_swr: float = Field(default=30.0, ge=0)
    # The in-process backend's bound: least recently used entries go first past this size.
    cache_max_bytes: int = Field(default=32 * 1024 * 1024, ge=0)
    # With CMS_REDIS_URL set (below), the cache and persisted queries are shared by every
    # worker through Redis; unset, each worker keeps its own in memory.
    # Browsers revalidate public responses after http_max_age seconds (a cheap 304 thanks to the
    # ETag); shared caches (CDNs, which can purge by Surrogate-Key) keep them for cache_ttl.
    http_max_age: int = Field(default=0, ge=0)
    # Server-Timing header and extensions.cost (db time, SQL statements, total) on responses.
    debug_timing: bool = False
    # Compiled reads (cms.graphql.compiled): anonymous reads the planner covers are answered
    # from a cached plan with batched SQL. CMS_COMPILED_READS=off sends every operation through
    # the standard executor.
    compiled_reads: bool = True
    # Accounts. Each argon2id hash takes ~64 MiB and tens of milliseconds of CPU, so at most
    # this many run at once per process; further logins wait their turn.
    hash_concurrency: int = Field(default=2, ge=1)
    # How long a token issued by `login` stays valid (ISO 8601 like P14D, or seconds).
    session_lifetime: timedelta = Field(default=timedelta(days=14), gt=timedelta(0))
    # Login attempts on one account from one client address: a burst in any burst * refill
    # seconds; from one address on any accounts, three bursts (see cms.auth.throttle).
    login_burst: int = Field(default=10, ge=1)
    login_refill_seconds: float = Field(default=30.0, gt=0)
    # How often the app looks for scheduled posts whose time has come, to record them as
    # published (readers see them on time regardless). 0 turns the background task off.
    scheduler_interval_seconds: float = Field(default=30.0, ge=0)
    # Operations (README "Operations"). Log lines as JSON, or as text for people; unset means
    # text in development, JSON in production and test.
    log_format: Literal["json", "console"] | None = None
    # The PostgreSQL connection pool of each worker process. A request that waits longer than
    # db_acquire_timeout seconds for a connection fails fast with SERVICE_UNAVAILABLE (503).
    db_pool_min: int = Field(default=1, ge=0)
    db_pool_max: int = Field(default=10, ge=1)
    db_acquire_timeout: float = Field(default=5.0, gt=0)
    # asyncpg's prepared-statement cache per connection: 0 behind PgBouncer in transaction mode,
    # where consecutive statements may run on different server connections.
    db_statement_cache_size: int = Field(default=100, ge=0)
    # Redis, shared by the workers; /readyz checks that it answers when this is set.
    redis_url: str | None = None
    # Subscriptions (README "Subscriptions"): operations per WebSocket connection, connections
    # per client (IPv6: per /64; for all workers with Redis), and events queued per subscription
    # for a client that reads slowly (beyond that the oldest are dropped).
    ws_max_subscriptions: int = Field(default=10, ge=1)
    ws_max_connections_per_client: int = Field(default=20, ge=1)
    ws_queue_size: int = Field(default=100, ge=1)
    # The Redis pub/sub channel that carries changes between workers. Pub/sub ignores the
    # database number in CMS_REDIS_URL: deployments sharing a Redis need channels of their own.
    realtime_channel: str = Field(default="cms:realtime:content-changed", min_length=1)
    # Webhooks (README "Webhooks"). Run the delivery task in this process; refuse URLs that
    # resolve to private, loopback, link-local or multicast addresses unless allowed.
    webhooks_dispatch: bool = True
    webhooks_allow_private: bool = False
    # Failed attempts in a row after which a webhook is disabled; how long a delivery is
    # retried; how long one attempt may take.
    webhooks_max_failures: int = Field(default=20, ge=1)
    webhooks_retry_window: timedelta = Field(default=timedelta(hours=24), gt=timedelta(0))
    webhooks_timeout_seconds: float = Field(default=10.0, gt=0)
    # Hardening (README "Security"): each limit refuses a request before any resolver runs.
    # Introspection, and the "did you mean" suggestions that reveal the schema just as well;
    # production turns both off (and refuses CMS_INTROSPECTION=true).
    introspection: bool = True
    max_query_depth: int = Field(default=10, ge=1)
    max_aliases: int = Field(default=15, ge=0)
    max_tokens: int = Field(default=1000, ge=1)
    # Nodes an operation may return, estimated before it runs (cms.graphql.cost).
    max_query_cost: int = Field(default=10_000, ge=1)
    # Any list or string in a variable or an argument, checked before it reaches a resolver.
    max_list_items: int = Field(default=200, ge=1)
    max_string_length: int = Field(default=100 * 1024, ge=1)
    # Request bodies. Reading needs little; writing a post may need more (its sections are
    # up to 100 KB each), so requests whose bearer token verified get the larger cap.
    max_body_bytes: int = Field(default=16 * 1024, ge=1024)
    max_authenticated_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    # Automatic persisted queries (cms.cache.apq). A document is remembered only once it has
    # run: parsed, validated, within every limit, its credentials accepted. One document is
    # remembered only up to apq_max_query_bytes (larger ones run, but are not kept); each
    # worker keeps at most apq_max_bytes of them, and a shared Redis at most
    # apq_redis_max_bytes, each for apq_ttl_seconds after it was last registered.
    apq_max_query_bytes: int = Field(default=16 * 1024, ge=1)
    apq_max_bytes: int = Field(default=4 * 1024 * 1024, ge=0)
    apq_redis_max_bytes: int = Field(default=16 * 1024 * 1024, ge=0)
    apq_ttl_seconds: int = Field(default=86_400, ge=1, le=7 * 86_400)
    # Seconds one operation may run before it is cancelled with TIMEOUT.
    operation_timeout: float = Field(default=10.0, gt=0)
    # Connections and /metrics (README "Security"; cms.web.connections, cms.web.concurrency).
    # Requests in progress at once per worker; beyond, 503 SERVICE_UNAVAILABLE at once. Idle
    # connections do not count.
    max_concurrency: int = Field(default=100, ge=1)
    # Open HTTP connections per worker (when full, the longest idle one is closed for a new
    # one), and per client address (IPv6 by /64; CMS_TRUSTED_PROXIES are exempt).
    max_connections: int = Field(default=1000, ge=1)
    max_connections_per_client: int = Field(default=32, ge=1)
    # Seconds a request's headers may take from its first byte, its body from the end of its
    # headers, and seconds a connection with no request in progress stays open without a byte.
    header_timeout: float = Field(default=10.0, gt=0)
    body_timeout: float = Field(default=30.0, gt=0)
    keep_alive_timeout: int = Field(default=5, ge=1)
    # Bearer token that GET /metrics requires. Unset: /metrics is public in development and
    # test, and not served at all in production.
    metrics_token: SecretStr | None = None
    # Browser origins allowed to call the API and open its WebSocket (none by default), as a
    # comma-separated list; "*" allows any origin.
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # Proxies (addresses or networks, comma-separated) whose X-Forwarded-For names the client.
    trusted_proxies: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # Per client address and minute: requests to /graphql, query cost points, login attempts.
    # 0 turns a limit off.
    rate_limit_requests: int = Field(default=600, ge=0)
    rate_limit_cost: int = Field(default=100_000, ge=0)
    rate_limit_logins: int = Field(default=20, ge=0)
    # Shared limits (cms.limit_store): with CMS_REDIS_URL the counters above, the login
    # throttle and the WebSocket caps live in Redis under this prefix, once for all workers.
    limits_key_prefix: str = Field(default="cms:limits", min_length=1)
    # An account under attack lets each address try it once per back-off period, doubling with
    # its failures up to this many seconds (a stranger can delay its owner no longer).
    login_max_backoff_seconds: float = Field(default=900.0, gt=0)
    # Revision storage (README "Security"). A post keeps at most this many revisions: past it,
    # the oldest tenth goes. Each author may add this many bytes of revisions per hour (their
    # changes then fail with THROTTLED). 0 turns a limit off.
    revisions_per_post: int = Field(default=500, ge=0)
    revision_bytes_per_hour: int = Field(default=64 * 1024 * 1024, ge=0)

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        scheme = urlsplit(value).scheme
        if scheme not in {"sqlite", "postgres", "postgresql", "asyncpg"}:
            raise ValueError(
                f"unsupported database URL scheme {scheme!r}: use sqlite:// or postgres://"
            )
        return value

    @field_validator("metrics_token", "redis_url", mode="before")
    @classmethod
    def _unset_when_empty(cls, value: Any) -> Any:
        # An empty variable (docker compose passes unset ones so) means unset: no token, no Redis.
        return None if value == "" else value

    @field_validator("cors_origins", "trusted_proxies", mode="before")
    @classmethod
    def _comma_separated(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [item.strip() for item in value.split(",") if item.strip()]
        return value

    @field_validator("cors_origins")
    @classmethod
    def _origins(cls, origins: list[str]) -> list[str]:
        normalized = []
        for origin in origins:
            if origin == "*":
                normalized.append(origin)
                continue
            parts = urlsplit(origin)
            if parts.scheme not in {"http", "https"} or not parts.netloc or parts.path.strip("/"):
                raise ValueError(
                    f"CORS origin {origin!r} is not scheme://host[:port], like https://example.com"
                )
            normalized.append(f"{parts.scheme}://{parts.netloc}".lower())
        return normalized

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies(cls, proxies: list[str]) -> list[str]:
        # Normalised (10.1.2.3/8 becomes 10.0.0.0/8) so that uvicorn, which `cms serve` gives
        # the same list, reads each entry as the network meant.
        normalized = []
        for proxy in proxies:
            try:
                network = ipaddress.ip_network(proxy, strict=False)
            except ValueError as exc:
                raise ValueError(
                    f"trusted proxy {proxy!r} is not an IP address or network (10.0.0.0/8)"
                ) from exc
            single = network.num_addresses == 1 and "/" not in proxy
            normalized.append(str(network.network_address) if single else str(network))
        return normalized

    @model_validator(mode="after")
    def _cost_budget(self) -> Settings:
        if self.rate_limit_cost and self.rate_limit_cost < self.max_query_cost:
            raise ValueError(
                f"CMS_RATE_LIMIT_COST ({self.rate_limit_cost}) is below CMS_MAX_QUERY_COST "
                f"({self.max_query_cost}): the most expensive allowed query could never run"
            )
        return self

    @model_validator(mode="after")
    def _production_ready(self) -> Settings:
        """Production refuses development conveniences and well-known secrets, then turns off
        introspection and GraphiQL (unless they were asked for, which it refuses)."""
        if self.env != "production":
            return self
        explicit = self.model_fields_set
        problems = []
        if "database_url" not in explicit:
            problems.append(
                "set CMS_DATABASE_URL (the default is a SQLite file in the current directory)"
            )
        elif not self.is_sqlite:
            problems.extend(_database_password_problems(self.database_url))
        if "graphiql" in explicit and self.graphiql:
            problems.append("CMS_GRAPHIQL=true: GraphiQL is a development tool")
        if "introspection" in explicit and self.introspection:
            problems.append(
                "CMS_INTROSPECTION=true: publish schema/schema.graphql to clients instead"
            )
        if self.debug_timing:
            problems.append("CMS_DEBUG_TIMING=true: timings are for development")
        if self.log_level == "debug":
            problems.append("CMS_LOG_LEVEL=debug logs SQL with its parameters")
        if self.metrics_token is not None and len(self.metrics_token) < MIN_METRICS_TOKEN:
            problems.append(f"CMS_METRICS_TOKEN is shorter than {MIN_METRICS_TOKEN} characters")
        if problems:
            raise ValueError("CMS_ENV=production refuses to start: " + "; ".join(problems))
        self.graphiql = False
        self.introspection = False
        return self

    @model_validator(mode="after")
    def _pool_bounds(self) -> Settings:
        if self.db_pool_min > self.db_pool_max:
            raise ValueError(
                f"CMS_DB_POOL_MIN ({self.db_pool_min}) exceeds CMS_DB_POOL_MAX ({self.db_pool_max})"
            )
        return self

    @property
    def json_logs(self) -> bool:
        """Whether log lines are JSON (production, test) or text for people (development)."""
        if self.log_format is None:
            return self.env != "development"
        return self.log_format == "json"

    @cached_property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def get_settings() -> Settings:
    """Build settings from the environment (a fresh read each call, so tests can vary it)."""
    return Settings()
