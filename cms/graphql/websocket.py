"""The WebSocket side of /graphql: graphql-transport-ws, signed in at ``connection_init``.

Browsers cannot set headers on a WebSocket, so a client signs in with the payload of its
``connection_init`` message: ``{"authorization": "Bearer <token>"}``. Without one, the
connection is anonymous (or acts for the ``Authorization`` header of the upgrade request, for
clients that can send it). The token is checked again before each event a subscription
delivers, so that revoking it, or deactivating its author, takes effect on open connections.

Close codes (besides the protocol's own 4400, 4401, 4408, 4409, 4429):

- 4403 the credentials in ``connection_init`` are malformed, unknown, expired or revoked;
- 1013 ("try again later") the client's address (IPv6: its /64) already holds
  ``CMS_WS_MAX_CONNECTIONS_PER_CLIENT`` connections (to any worker, with Redis).

Every operation (``subscribe`` message) takes one request from the client's allowance
(``CMS_RATE_LIMIT_REQUESTS``), the same one its HTTP requests draw from, and its estimated
cost from the cost allowance (:mod:`cms.graphql.guard`). Past either, the operation is
answered with an ``error`` message whose error has ``extensions.code`` RATE_LIMITED and
``retryAfter``; the connection stays open.

A ``subscribe`` beyond ``CMS_WS_MAX_SUBSCRIPTIONS`` operations on one connection is answered
with an ``error`` message for that operation ("Subscription limit reached"); the connection
stays open.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from graphql import GraphQLError
from starlette.requests import HTTPConnection
from starlette.websockets import WebSocket, WebSocketDisconnect
from strawberry.http.exceptions import WebSocketDisconnected
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    ConnectionInitMessage,
    Message,
    SubscribeMessage,
)

from cms.auth.backend import viewer_for_token
from cms.auth.tokens import find_active_token, record_use
from cms.auth.viewer import ANONYMOUS
from cms.errors import ErrorCode, InvalidInput, Unauthenticated
from cms.graphql.context import Context, Loaders
from cms.realtime import LiveUpdates
from cms.services.visibility import Visibility
from cms.web.client_address import connection_key
from cms.web.ratelimit import RateLimits, too_many_requests

__all__ = [
    "INVALID_CREDENTIALS",
    "TOO_MANY_CONNECTIONS",
    "SubscriptionHandler",
    "current_visibility",
    "live_updates",
    "require_websocket",
]

INVALID_CREDENTIALS = 4403
TOO_MANY_CONNECTIONS = 1013


@dataclass(frozen=True)
class ConnectionAuth:
    """The token secret a connection signed in with (None: anonymous)."""

    secret: str | None


class SubscriptionHandler(BaseGraphQLTransportWSHandler[Context, None]):
    """Strawberry's graphql-transport-ws handler, with our sign-in and connection caps."""

    async def handle(self) -> None:
        websocket = _websocket(self.context)
        live = live_updates(websocket)
        self.max_subscriptions_per_connection = live.max_subscriptions
        async with live.connections.hold(connection_key(websocket.scope)) as admitted:
            if not admitted:
                await self.websocket.close(
                    code=TOO_MANY_CONNECTIONS, reason="Too many connections from this address"
                )
                return
            await super().handle()

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        payload = message.get("payload") or {}
        # A repeated or late init, or a malformed payload, is the protocol's business.
        if not self.connection_init_received and isinstance(payload, dict):
            try:
                await sign_in(self.context, payload)
            except Unauthenticated as exc:
                await self.websocket.close(code=INVALID_CREDENTIALS, reason=exc.message[:120])
                return
        await super().handle_connection_init(message)

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        if self.connection_acknowledged:
            if not await self._within_rate_limit(message):
                return
            # Each operation starts from fresh loaders (a query over the socket must not read
            # what an earlier one cached) and from a token that is still valid.
            try:
                await current_visibility(self.context)
            except Unauthenticated as exc:
                await self.websocket.close(code=INVALID_CREDENTIALS, reason=exc.message[:120])
                return
        await super().handle_subscribe(message)

    async def _within_rate_limit(self, message: SubscribeMessage) -> bool:
        """Take the operation from the client's request allowance, as an HTTP request would.

        A refusal answers the operation with an ``error`` message (RATE_LIMITED, with
        ``retryAfter``) and leaves the connection open.
        """
        websocket = _websocket(self.context)
        limits = getattr(websocket.app.state, "rate_limits", None)
        if not isinstance(limits, RateLimits) or limits.requests is None:
            return True
        decision = await limits.requests.take(connection_key(websocket.scope))
        if decision is None or decision.allowed:
            return True
        error = GraphQLError(
            too_many_requests(decision),
            extensions={"code": ErrorCode.RATE_LIMITED, "retryAfter": decision.retry_after},
        )
        await self.send_message(
            {"id": message["id"], "type": "error", "payload": [error.formatted]}
        )
        return False

    async def send_message(self, message: Message) -> None:
        # The view encodes JSON as bytes (right for HTTP), which strawberry would send as
        # binary frames; graphql-transport-ws clients (graphql-ws) only read text frames.
        try:
            await _websocket(self.context).send_text(self.view.encode_json_string(message))
        except WebSocketDisconnect as exc:
            raise WebSocketDisconnected from exc


async def sign_in(context: Context, payload: dict[str, Any]) -> None:
    """Make the connection act for the token in ``payload`` (or the upgrade's header)."""
    websocket = _websocket(context)
    raw = payload.get("authorization", payload.get("Authorization"))
    if raw is None:
        if context.auth_error is not None:
            raise context.auth_error
        secret = _bearer_secret(websocket.headers.get("authorization"))
    elif isinstance(raw, str):
        secret = _bearer_secret(raw)
    else:
        raise Unauthenticated("`authorization` must be a string: `Bearer <token>`.")
    if secret is not None:
        now = datetime.now(UTC)
        token = await find_active_token(secret, now=now)
        if token is None:
            raise Unauthenticated("The bearer token is invalid, expired or revoked.")
        await record_use(token, now=now)
    websocket.state.cms_auth = ConnectionAuth(secret=secret)
    context.auth_error = None
    await current_visibility(context)


async def current_visibility(context: Context) -> Visibility:
    """What the connection's viewer may read now; refreshes the context to match.

    Also gives the context fresh loaders: a connection outlives many events, and loaders cache
    what they read.
    """
    websocket = _websocket(context)
    auth: ConnectionAuth = getattr(websocket.state, "cms_auth", ConnectionAuth(secret=None))
    now = datetime.now(UTC)
    viewer = ANONYMOUS
    if auth.secret is not None:
        token = await find_active_token(auth.secret, now=now)
        if token is None:
            raise Unauthenticated(
                "The connection's token has expired or was revoked; reconnect with a valid one."
            )
        viewer = viewer_for_token(token)
    visibility = Visibility.for_viewer(viewer, now=now)
    context.viewer, context.visibility, context.loaders = viewer, visibility, Loaders(visibility)
    return visibility


def live_updates(connection: HTTPConnection) -> LiveUpdates:
    """The app's live updates (``app.state.live``, started by the app's lifespan)."""
    live = getattr(connection.app.state, "live", None)
    if not isinstance(live, LiveUpdates):
        raise RuntimeError("live updates are not set up: build the app with create_app()")
    return live


def require_websocket(context: Context) -> None:
    """BAD_USER_INPUT unless the operation came over a WebSocket (not HTTP streaming)."""
    _websocket(context)


def _websocket(context: Context) -> WebSocket:
    if not isinstance(context.request, WebSocket):
        raise InvalidInput("Subscriptions are served over WebSocket (graphql-transport-ws) only.")
    return context.request


def _bearer_secret(header: str | None) -> str | None:
    if header is None:
        return None
    scheme, _, secret = header.strip().partition(" ")
    secret = secret.strip()
    if scheme.lower() != "bearer" or not secret:
        raise Unauthenticated("`authorization` must have the form `Bearer <token>`.")
    return secret
