"""Per-client rate limits: requests to /graphql, query cost points and login attempts.

Each limit allows a client a minute's allowance (``CMS_RATE_LIMIT_REQUESTS``,
``CMS_RATE_LIMIT_COST``, ``CMS_RATE_LIMIT_LOGINS``) in any 60 seconds, counted with the
``limits`` library's sliding window counter: what the client spent in the previous minute
weighs in proportion to how much of it is still inside the last 60 seconds. A client may spend
a minute's worth at once, then gets it back as the window slides. 0 turns a limit off.

- :class:`RateLimitMiddleware` takes one request from the client's allowance for every HTTP
  request to /graphql and every WebSocket handshake, before the body is read;
  :mod:`cms.graphql.websocket` takes one more for every operation a WebSocket carries.
- :mod:`cms.graphql.guard` charges each operation's estimated cost, and each ``login`` field,
  before the operation runs (over HTTP and WebSocket alike).

The counters live in the app's :class:`~cms.limit_store.LimitStore`: Redis when
``CMS_REDIS_URL`` is set, so that the allowances hold across all workers together; this
process otherwise. When Redis cannot be reached, requests are let through (and logged): an
outage of the counters must not become an outage of the site.

A refusal is 429 with a GraphQL-shaped ``RATE_LIMITED`` error. Responses describe the limit
that decided in the headers of the IETF draft (draft-ietf-httpapi-ratelimit-headers-07):
``RateLimit-Limit``, ``RateLimit-Remaining``, ``RateLimit-Reset`` (seconds until the client's
spending has left the window entirely) and ``RateLimit-Policy``; refusals add ``Retry-After``
(seconds until the amount asked for fits).

A client is :func:`cms.web.client_address.connection_key`: its address as
:mod:`cms.web.proxies` resolved it, IPv6 grouped by /64.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

from limits import RateLimitItemPerMinute
from limits.aio.storage import SlidingWindowCounterSupport
from limits.aio.strategies import SlidingWindowCounterRateLimiter
from limits.errors import StorageError
from starlette.datastructures import MutableHeaders
from starlette.websockets import WebSocket

from cms.errors import ErrorCode
from cms.observability.logging import get_logger
from cms.web.client_address import connection_key
from cms.web.responses import error_response

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

    from cms.limit_store import LimitStore
    from cms.settings import Settings

__all__ = [
    "Decision",
    "Limit",
    "RateLimitMiddleware",
    "RateLimits",
    "decide",
    "too_many_requests",
]

WINDOW_SECONDS = 60

log = get_logger("cms.ratelimit")

# (previous window's count, seconds it still weighs, current window's count, seconds until the
# current count has expired): what SlidingWindowCounterSupport.get_sliding_window returns.
Window = tuple[int, float, int, float]


@dataclass(frozen=True, slots=True)
class Decision:
    """Whether an amount could be taken from an allowance, and the allowance's state after."""

    allowed: bool
    limit: int
    remaining: int
    reset: int
    """Seconds until everything spent has left the window."""
    retry_after: int
    """Seconds until the amount asked for fits (0 when it was taken)."""

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


def decide(window: Window, *, limit: int, amount: int, allowed: bool, expiry: float) -> Decision:
    """The decision to report, from the sliding window as it stands after taking or refusing.

    The window's weighted count is ``previous * weight_left / expiry + current``; ``limits``
    refuses an amount when ``floor(count) + amount > limit``. The retry time is when the
    decaying count first lets ``amount`` in.
    """
    previous, previous_ttl, current, current_ttl = window
    # When the current window ends and its count starts to decay as the previous one.
    ends = current_ttl - expiry if current_ttl > expiry else previous_ttl
    used = math.floor(previous * previous_ttl / expiry + current)
    if current:
        reset = ends + expiry
    elif previous:
        reset = previous_ttl
    else:
        reset = 0.0
    retry = 0.0
    if not allowed:
        room = limit - amount + 1  # the weighted count must fall below this
        if room <= 0:
            retry = reset  # never fits; the best to say is when the window is empty
        elif current < room:
            retry = ends - (room - current) * expiry / previous if previous else 0.0
        else:
            retry = ends + expiry - room * expiry / current
    return Decision(
        allowed=allowed,
        limit=limit,
        remaining=max(0, limit - used),
        reset=math.ceil(reset),
        retry_after=max(1, math.ceil(retry)) if not allowed else 0,
    )


def too_many_requests(decision: Decision) -> str:
    """The message refusing a request (over HTTP or WebSocket) past the request allowance."""
    return (
        f"Too many requests from this client: at most {decision.limit} a minute. "
        f"Try again in {decision.retry_after} s."
    )


class Limit:
    """One allowance per client and minute, counted in a ``limits`` storage."""

    def __init__(self, store: LimitStore, allowance: int, *, name: str) -> None:
        self.allowance = allowance
        self.item = RateLimitItemPerMinute(allowance, namespace=name)
        self.limiter = SlidingWindowCounterRateLimiter(store.storage)
        # Both storages of LimitStore keep sliding windows (the limiter checked as much).
        self.windows = cast(SlidingWindowCounterSupport, store.storage)

    async def check(self, key: str, amount: int = 1) -> Decision | None:
        """Whether ``amount`` could be taken now, without taking it; None if unknown."""
        try:
            allowed = await self.limiter.test(self.item, key, cost=amount)
            return await self._decision(key, amount, allowed=allowed)
        except StorageError as exc:
            self._unreachable(exc)
            return None

    async def take(self, key: str, amount: int = 1) -> Decision | None:
        """Take ``amount`` if it fits; a refusal takes nothing. None if the store is down."""
        try:
            allowed = await self.limiter.hit(self.item, key, cost=amount)
            return await self._decision(key, 0 if allowed else amount, allowed=allowed)
        except StorageError as exc:
            self._unreachable(exc)
            return None

    async def _decision(self, key: str, amount: int, *, allowed: bool) -> Decision:
        expiry = self.item.get_expiry()
        window = await self.windows.get_sliding_window(self.item.key_for(key), expiry)
        return decide(window, limit=self.allowance, amount=amount, allowed=allowed, expiry=expiry)

    def _unreachable(self, exc: StorageError) -> None:
        log.warning("rate limit store unreachable", limit=self.item.namespace, error=str(exc))


@dataclass(frozen=True)
class RateLimits:
    """The three limits of one app; None where a limit is off."""

    requests: Limit | None
    cost: Limit | None
    logins: Limit | None

    @classmethod
    def from_settings(cls, settings: Settings, store: LimitStore) -> RateLimits:
        def limit(allowance: int, name: str) -> Limit | None:
            return Limit(store, allowance, name=name) if allowance else None

        return cls(
            requests=limit(settings.rate_limit_requests, "requests"),
            cost=limit(settings.rate_limit_cost, "cost"),
            logins=limit(settings.rate_limit_logins, "logins"),
        )


class RateLimitMiddleware:
    """Takes one request from the client's allowance per request to ``paths``; 429 past it."""

    def __init__(
        self, app: ASGIApp, *, limits: RateLimits, paths: frozenset[str] = frozenset({"/graphql"})
    ) -> None:
        self.app = app
        self.limit = limits.requests
        self.paths = paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            self.limit is None
            or scope["type"] not in ("http", "websocket")
            or scope["path"] not in self.paths
        ):
            await self.app(scope, receive, send)
            return
        decision = await self.limit.take(connection_key(scope))
        if decision is None:
            await self.app(scope, receive, send)
            return
        if not decision.allowed:
            if scope["type"] == "websocket":
                # Closing before accepting refuses the handshake (the server answers 403).
                await WebSocket(scope, receive, send).close(code=1008, reason="rate limited")
                return
            response = error_response(
                ErrorCode.RATE_LIMITED,
                too_many_requests(decision),
                headers=decision.headers(),
                retryAfter=decision.retry_after,
            )
            await response(scope, receive, send)
            return

        headers = decision.headers()

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                response_headers = MutableHeaders(scope=message)
                # A refusal below (cost, logins) describes its own allowance: keep that.
                if "ratelimit-limit" not in response_headers:
                    for name, value in headers.items():
                        response_headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)
