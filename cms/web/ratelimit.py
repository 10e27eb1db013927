"""Per-client rate limits: requests to /graphql, query cost points and login attempts.

Each client owns one token bucket per limit. A bucket holds up to a minute's allowance
(``CMS_RATE_LIMIT_REQUESTS``, ``CMS_RATE_LIMIT_COST``, ``CMS_RATE_LIMIT_LOGINS``) and refills
continuously at that allowance per minute: a client may spend a minute's worth at once, then
proceeds at the steady rate. 0 turns a limit off.

- :class:`RateLimitMiddleware` takes one request from the client's bucket for every HTTP
  request to /graphql and every WebSocket handshake, before the body is read.
- :mod:`cms.graphql.guard` charges each operation's estimated cost, and each ``login`` field,
  before the operation runs (so WebSocket operations are charged too).

A refusal is 429 with a GraphQL-shaped ``RATE_LIMITED`` error. Responses describe the bucket
that decided in the headers of the IETF draft (draft-ietf-httpapi-ratelimit-headers-07):
``RateLimit-Limit``, ``RateLimit-Remaining``, ``RateLimit-Reset`` (seconds until the bucket is
full again) and ``RateLimit-Policy``; refusals add ``Retry-After``.

A client is its address as :mod:`cms.web.proxies` resolved it. IPv6 clients are grouped by
their /64 network, which is what one host or one subscriber usually holds.

The buckets live in this process. Behind several workers each keeps its own, so the limits
apply per worker; sharing them (Redis) is a later step.
"""

from __future__ import annotations

import ipaddress
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from starlette.datastructures import MutableHeaders
from starlette.websockets import WebSocket

from cms.web.responses import error_response

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

    from cms.settings import Settings

__all__ = [
    "RATE_LIMITED",
    "Decision",
    "RateLimitMiddleware",
    "RateLimits",
    "TokenBuckets",
    "client_key",
]

RATE_LIMITED = "RATE_LIMITED"
WINDOW_SECONDS = 60

Clock = Callable[[], float]


@dataclass(frozen=True, slots=True)
class Decision:
    """Whether an amount could be taken from a bucket, and the bucket's state after."""

    allowed: bool
    limit: int
    remaining: int
    reset: int
    """Seconds until the bucket is full again."""
    retry_after: int
    """Seconds until the amount asked for is available (0 when it was taken)."""

    def headers(self) -> dict[str, str]:
        headers = {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(self.remaining),
            "RateLimit-Reset": str(self.reset),
            "RateLimit-Policy": f"{self.limit};w={WINDOW_SECONDS}",
        }
        if not self.allowed:
            headers["Retry-After"] = str(self.retry_after)
        return headers


@dataclass
class _Bucket:
    tokens: float
    updated_at: float


@dataclass
class TokenBuckets:
    """One bucket per key, each holding up to ``allowance`` refilled per ``window`` seconds."""

    allowance: int
    window: float = WINDOW_SECONDS
    clock: Clock = time.monotonic
    # Past this many keys, full buckets (clients gone quiet) are forgotten, so that a spray of
    # addresses cannot grow memory without bound.
    max_keys: int = 100_000
    _buckets: dict[str, _Bucket] = field(default_factory=dict, init=False, repr=False)

    @property
    def rate(self) -> float:
        return self.allowance / self.window

    def check(self, key: str, amount: float = 1) -> Decision:
        """Whether ``amount`` could be taken now, without taking it."""
        return self._decide(self._refilled(key), amount)

    def take(self, key: str, amount: float = 1) -> Decision:
        """Take ``amount`` if the bucket holds it; a refusal takes nothing."""
        bucket = self._refilled(key)
        decision = self._decide(bucket, amount)
        if decision.allowed:
            bucket.tokens -= amount
            decision = self._decide(bucket, 0)
        return decision

    def _decide(self, bucket: _Bucket, amount: float) -> Decision:
        allowed = bucket.tokens >= amount
        missing = 0.0 if allowed else amount - bucket.tokens
        return Decision(
            allowed=allowed,
            limit=self.allowance,
            remaining=max(0, math.floor(bucket.tokens - (amount if allowed else 0))),
            reset=math.ceil((self.allowance - bucket.tokens) / self.rate),
            # An amount above the allowance never fits; say when the bucket is full instead.
            retry_after=math.ceil(min(missing, self.allowance) / self.rate),
        )

    def _refilled(self, key: str) -> _Bucket:
        now = self.clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= self.max_keys:
                self._forget_idle(now)
            bucket = self._buckets[key] = _Bucket(tokens=self.allowance, updated_at=now)
        else:
            elapsed = max(0.0, now - bucket.updated_at)
            bucket.tokens = min(self.allowance, bucket.tokens + elapsed * self.rate)
            bucket.updated_at = now
        return bucket

    def _forget_idle(self, now: float) -> None:
        for key, bucket in list(self._buckets.items()):
            if bucket.tokens + (now - bucket.updated_at) * self.rate >= self.allowance:
                del self._buckets[key]
        while len(self._buckets) >= self.max_keys:  # all busy: drop the oldest
            del self._buckets[next(iter(self._buckets))]


@dataclass(frozen=True)
class RateLimits:
    """The three limits of one app; None where a limit is off."""

    requests: TokenBuckets | None
    cost: TokenBuckets | None
    logins: TokenBuckets | None

    @classmethod
    def from_settings(cls, settings: Settings, *, clock: Clock = time.monotonic) -> RateLimits:
        def buckets(allowance: int) -> TokenBuckets | None:
            return TokenBuckets(allowance, clock=clock) if allowance else None

        return cls(
            requests=buckets(settings.rate_limit_requests),
            cost=buckets(settings.rate_limit_cost),
            logins=buckets(settings.rate_limit_logins),
        )


def client_key(scope: Scope) -> str:
    """The bucket key of the request's client: its address, or its /64 network for IPv6."""
    client = scope.get("client")
    host = client[0] if client else None
    if not host:
        return "unknown"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return str(host)  # a Unix socket path or a test client's name
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


class RateLimitMiddleware:
    """Takes one request from the client's bucket per request to ``paths``; 429 when empty."""

    def __init__(
        self, app: ASGIApp, *, limits: RateLimits, paths: frozenset[str] = frozenset({"/graphql"})
    ) -> None:
        self.app = app
        self.buckets = limits.requests
        self.paths = paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            self.buckets is None
            or scope["type"] not in ("http", "websocket")
            or scope["path"] not in self.paths
        ):
            await self.app(scope, receive, send)
            return
        decision = self.buckets.take(client_key(scope))
        if not decision.allowed:
            if scope["type"] == "websocket":
                # Closing before accepting refuses the handshake (the server answers 403).
                await WebSocket(scope, receive, send).close(code=1008, reason="rate limited")
                return
            response = error_response(
                429,
                f"Too many requests from this client: at most {decision.limit} a minute. "
                f"Try again in {decision.retry_after} s.",
                RATE_LIMITED,
                headers=decision.headers(),
                retryAfter=decision.retry_after,
            )
            await response(scope, receive, send)
            return

        headers = decision.headers()

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                response_headers = MutableHeaders(scope=message)
                # A refusal below (cost, logins) describes its own bucket: keep that.
                if "ratelimit-limit" not in response_headers:
                    for name, value in headers.items():
                        response_headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)
