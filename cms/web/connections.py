"""Connection guards for ``cms serve``: sockets that send nothing useful cannot shut others out.

uvicorn alone lets one client hold every slot: ``limit_concurrency`` counts idle keep-alive
and half-open connections, uvicorn never times out a request whose headers do not arrive, and
any byte resets its keep-alive timer. :class:`GuardedHttpProtocol` is uvicorn's httptools
protocol with these rules added (``cms serve`` passes it as ``http=``), one
:class:`ConnectionGuard` per server:

- **Per client.** At most ``max_per_client`` open connections per client address (IPv6 by
  /64, as the rate limits count), except from ``CMS_TRUSTED_PROXIES``, whose one address
  carries everyone's traffic. The next one is answered 503 ``SERVICE_UNAVAILABLE`` and closed.
- **Per worker.** At most ``max_connections`` open connections. When full, a new connection
  closes the connection that has been idle longest; only when none is idle is it refused.
- **Headers.** A request's headers must be complete within ``header_timeout`` seconds of its
  first byte, however slowly they trickle in; otherwise the connection is closed.
- **Body.** A request's body must be complete within ``body_timeout`` seconds of its headers;
  otherwise the connection is closed, and the request, which the app may already be running
  (and counting against ``CMS_MAX_CONCURRENCY``), ends as a disconnection.
- **Idle.** A connection with no request in progress (new, or kept alive after a response) is
  closed after ``idle_timeout`` seconds without a byte.

Idle connections no longer count against the request concurrency cap (see
:mod:`cms.web.concurrency`). A WebSocket leaves these rules at its upgrade: the subscriptions'
own caps govern it (``CMS_WS_MAX_CONNECTIONS_PER_CLIENT``, see :mod:`cms.realtime`).

Each connection refused or closed by these rules is counted in ``cms_connections_closed_total``
by reason (see :mod:`cms.observability.metrics`).

The guard relies on the protocol's public hooks only: asyncio's ``connection_made``,
``data_received`` and ``connection_lost``, and uvicorn's ``on_headers_complete`` and
``on_message_complete`` (the parser's callbacks when a request's headers, then all of it, are
in), ``on_response_complete`` (called when a response
has been sent) and ``handle_websocket_upgrade``. ``tests/web/test_connections.py`` checks that
uvicorn still calls them.
"""

from __future__ import annotations

import asyncio
import weakref
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.protocols.utils import get_remote_addr

from cms.errors import ErrorCode
from cms.observability.metrics import CONNECTIONS_CLOSED
from cms.settings import get_settings
from cms.web.client_address import client_key
from cms.web.proxies import TrustedProxies
from cms.web.responses import error_body

if TYPE_CHECKING:
    from typing import Any

    from uvicorn.config import Config
    from uvicorn.server import ServerState

    from cms.settings import Settings

__all__ = ["ConnectionGuard", "ConnectionLimits", "GuardedHttpProtocol", "refusal"]

Phase = Literal["idle", "headers", "busy"]


@dataclass(frozen=True)
class ConnectionLimits:
    max_connections: int
    max_per_client: int
    header_timeout: float
    body_timeout: float
    idle_timeout: float
    exempt: TrustedProxies

    @classmethod
    def from_settings(cls, settings: Settings) -> ConnectionLimits:
        return cls(
            max_connections=settings.max_connections,
            max_per_client=settings.max_connections_per_client,
            header_timeout=settings.header_timeout,
            body_timeout=settings.body_timeout,
            idle_timeout=settings.keep_alive_timeout,
            exempt=TrustedProxies(settings.trusted_proxies),
        )


def refusal(message: str) -> bytes:
    """A whole HTTP response refusing a connection, written before closing it."""
    body = error_body(message, ErrorCode.SERVICE_UNAVAILABLE)
    head = (
        "HTTP/1.1 503 Service Unavailable\r\n"
        "content-type: application/json\r\n"
        f"content-length: {len(body)}\r\n"
        "retry-after: 1\r\n"
        "connection: close\r\n\r\n"
    )
    return head.encode("ascii") + body


TOO_MANY_FROM_CLIENT = refusal("Too many open connections from your address; close some first.")
TOO_MANY = refusal("The server has too many open connections; retry shortly.")


class ConnectionGuard:
    """The open connections of one server: counted per client, idle ones oldest first."""

    def __init__(self, limits: ConnectionLimits) -> None:
        self.limits = limits
        self._clients: dict[GuardedHttpProtocol, str | None] = {}
        self._per_client: Counter[str] = Counter()
        # Insertion-ordered: the first entry has been idle longest.
        self._idle: dict[GuardedHttpProtocol, None] = {}

    def __len__(self) -> int:
        return len(self._clients)

    def admit(self, connection: GuardedHttpProtocol, client: str | None) -> bytes | None:
        """Count ``connection`` in, or return the refusal to write it before closing."""
        key = None if client is None or self.limits.exempt.trusts(client) else client_key(client)
        if key is not None and self._per_client[key] >= self.limits.max_per_client:
            CONNECTIONS_CLOSED.labels(reason="per_client").inc()
            return TOO_MANY_FROM_CLIENT
        if len(self._clients) >= self.limits.max_connections:
            if not self._idle:
                CONNECTIONS_CLOSED.labels(reason="server_full").inc()
                return TOO_MANY
            self._idle_longest().close_idle()
        self._clients[connection] = key
        if key is not None:
            self._per_client[key] += 1
        return None

    def release(self, connection: GuardedHttpProtocol) -> None:
        """Forget ``connection`` (idempotent)."""
        self._idle.pop(connection, None)
        if connection not in self._clients:
            return
        key = self._clients.pop(connection)
        if key is not None:
            self._per_client[key] -= 1
            if not self._per_client[key]:
                del self._per_client[key]

    def mark_idle(self, connection: GuardedHttpProtocol) -> None:
        if connection in self._clients:
            self._idle[connection] = None

    def mark_busy(self, connection: GuardedHttpProtocol) -> None:
        self._idle.pop(connection, None)

    def _idle_longest(self) -> GuardedHttpProtocol:
        oldest = next(iter(self._idle))
        self.release(oldest)
        return oldest


# One guard per uvicorn server (a worker process runs one), made from the settings the worker
# builds its app from; keyed weakly so a server that stops takes its guard with it.
_guards: weakref.WeakKeyDictionary[ServerState, ConnectionGuard] = weakref.WeakKeyDictionary()


def _guard_for(server_state: ServerState) -> ConnectionGuard:
    guard = _guards.get(server_state)
    if guard is None:
        guard = _guards[server_state] = ConnectionGuard(
            ConnectionLimits.from_settings(get_settings())
        )
    return guard


class GuardedHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol under a :class:`ConnectionGuard`.

    Names of our own start with ``guard_`` so as not to collide with uvicorn's attributes.
    """

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.guard = _guard_for(server_state)
        self.guard_transport: asyncio.Transport | None = None
        self.guard_timer: asyncio.TimerHandle | None = None
        self.guard_phase: Phase = "idle"
        # Requests whose headers are in and whose response is not sent (pipelining queues more).
        self.guard_in_flight = 0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.guard_transport = transport
        peer = get_remote_addr(transport)
        refused = self.guard.admit(self, peer[0] if peer else None)
        if refused is not None:
            transport.write(refused)
            transport.close()
            return
        self._guard_idle()

    def data_received(self, data: bytes) -> None:
        if self.guard_phase == "idle":
            # The first byte of a request: its headers have header_timeout from now, however
            # many more bytes follow (uvicorn's keep-alive timer restarts on every byte).
            self.guard_phase = "headers"
            self.guard.mark_busy(self)
            self._guard_arm(self.guard.limits.header_timeout, "header_timeout")
        super().data_received(data)

    def on_headers_complete(self) -> None:
        self.guard_phase = "busy"
        self.guard_in_flight += 1
        # Disarmed at once by on_message_complete when there is no body.
        self._guard_arm(self.guard.limits.body_timeout, "body_timeout")
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._guard_disarm()
        super().on_message_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self.guard_in_flight -= 1
        transport = self.guard_transport
        if not self.guard_in_flight and transport is not None and not transport.is_closing():
            self._guard_idle()

    def handle_websocket_upgrade(self) -> None:
        # The WebSocket protocol takes the socket over; its own caps apply from here on.
        self._guard_disarm()
        self.guard.release(self)
        super().handle_websocket_upgrade()

    def connection_lost(self, exc: Exception | None) -> None:
        self._guard_disarm()
        self.guard.release(self)
        super().connection_lost(exc)

    def close_idle(self) -> None:
        """Close this idle connection to make room for a new one."""
        self._guard_close("idle_shed")

    def _guard_idle(self) -> None:
        self.guard_phase = "idle"
        self.guard.mark_idle(self)
        self._guard_arm(self.guard.limits.idle_timeout, "idle_timeout")

    def _guard_arm(self, seconds: float, reason: str) -> None:
        self._guard_disarm()
        self.guard_timer = asyncio.get_running_loop().call_later(seconds, self._guard_close, reason)

    def _guard_disarm(self) -> None:
        if self.guard_timer is not None:
            self.guard_timer.cancel()
            self.guard_timer = None

    def _guard_close(self, reason: str) -> None:
        CONNECTIONS_CLOSED.labels(reason=reason).inc()
        self._guard_disarm()
        self.guard.release(self)
        if self.guard_transport is not None and not self.guard_transport.is_closing():
            self.guard_transport.close()
