"""A graphql-transport-ws client that drives the ASGI app in-process, on the test's loop.

Starlette's TestClient would run the app in a thread with a loop of its own, away from the
database connections the fixtures opened; this client calls the app directly instead. Its
``outbox_size`` bounds how many server messages wait unread: with 1, a server that sends
more blocks in ``send`` exactly as it would on a socket whose client stopped reading.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from types import TracebackType
from typing import Any

from starlette.types import ASGIApp, Message

PROTOCOL = "graphql-transport-ws"
TIMEOUT = 5.0


class Closed(Exception):
    """Raised when the server closed the connection; carries its code and reason."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(f"closed with {code}: {reason}")
        self.code = code
        self.reason = reason


class WebSocketClient:
    def __init__(
        self,
        app: ASGIApp,
        *,
        client_address: str = "127.0.0.1",
        headers: dict[str, str] | None = None,
        outbox_size: int = 0,
    ) -> None:
        self.app = app
        self.client_address = client_address
        self.headers = headers or {}
        self._to_app: asyncio.Queue[Message] = asyncio.Queue()
        self._from_app: asyncio.Queue[Message] = asyncio.Queue(maxsize=outbox_size)
        self._task: asyncio.Task[None] | None = None
        self.protocol = PROTOCOL  # the subprotocol asked for
        self.subprotocol: str | None = None  # the one the server chose

    async def __aenter__(self) -> WebSocketClient:
        headers = [(b"host", b"testserver"), (b"sec-websocket-protocol", self.protocol.encode())]
        headers += [(k.lower().encode(), v.encode()) for k, v in self.headers.items()]
        scope = {
            "type": "websocket",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "scheme": "ws",
            "path": "/graphql",
            "raw_path": b"/graphql",
            "root_path": "",
            "query_string": b"",
            "headers": headers,
            "client": (self.client_address, 50000),
            "server": ("testserver", 80),
            "subprotocols": [self.protocol],
            "state": {},
        }
        await self._to_app.put({"type": "websocket.connect"})
        self._task = asyncio.create_task(self.app(scope, self._to_app.get, self._from_app.put))
        message = await self._next()
        if message["type"] == "websocket.close":
            raise Closed(message.get("code", 1000), message.get("reason", ""))
        assert message["type"] == "websocket.accept", message
        self.subprotocol = message.get("subprotocol")
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.disconnect()

    async def disconnect(self) -> None:
        if self._task is None:
            return
        await self._to_app.put({"type": "websocket.disconnect", "code": 1000})
        # Let a server blocked on a full outbox move on to the disconnect.
        while not self._task.done():
            with contextlib.suppress(asyncio.QueueEmpty):
                self._from_app.get_nowait()
            await asyncio.sleep(0)
        await self._task
        self._task = None

    async def send(self, message: dict[str, Any]) -> None:
        await self._to_app.put({"type": "websocket.receive", "text": json.dumps(message)})

    async def receive(self, within: float = TIMEOUT) -> dict[str, Any]:
        """The next protocol message; Closed if the server closed instead."""
        message = await self._next(within)
        if message["type"] == "websocket.close":
            raise Closed(message.get("code", 1000), message.get("reason", ""))
        result: dict[str, Any] = json.loads(message["text"])
        return result

    async def expect_silence(self, within: float = 0.2) -> None:
        """Fail if a message arrives ``within`` seconds (for things that must not happen)."""
        with contextlib.suppress(TimeoutError):
            message = await self._next(within)
            raise AssertionError(f"expected no message, got {message}")

    def pending(self) -> int:
        return self._from_app.qsize()

    async def _next(self, within: float = TIMEOUT) -> Message:
        return await asyncio.wait_for(self._from_app.get(), within)

    # Protocol helpers.

    async def init(self, payload: dict[str, Any] | None = None) -> dict[str, Any]:
        await self.send({"type": "connection_init", "payload": payload or {}})
        return await self.receive()

    async def subscribe(
        self, operation_id: str, query: str, variables: dict[str, Any] | None = None
    ) -> None:
        await self.send(
            {
                "id": operation_id,
                "type": "subscribe",
                "payload": {"query": query, "variables": variables or {}},
            }
        )

    async def next_data(self, operation_id: str, within: float = TIMEOUT) -> dict[str, Any]:
        """The data of the operation's next ``next`` message (failing on anything else)."""
        message = await self.receive(within)
        assert message.get("id") == operation_id, message
        assert message["type"] == "next", message
        assert "errors" not in message["payload"], message
        data: dict[str, Any] = message["payload"]["data"]
        return data


@contextlib.asynccontextmanager
async def connected(app: ASGIApp, **options: Any) -> AsyncIterator[WebSocketClient]:
    async with WebSocketClient(app, **options) as client:
        yield client
