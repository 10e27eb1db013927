"""Connection guards against a real `cms serve` over TCP (cms.web.connections).

Client addresses differ by binding the client socket to another loopback address: Linux routes
all of 127.0.0.0/8 to the loopback interface.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import cast

import httpx
import pytest
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from websockets import Subprotocol
from websockets.exceptions import ConnectionClosed
from websockets.frames import CloseCode
from websockets.sync.client import connect as websocket

from cms.web.connections import ConnectionGuard, ConnectionLimits, GuardedHttpProtocol
from cms.web.proxies import TrustedProxies
from tests.liveservers import cms_worker

pytestmark = pytest.mark.server

PARTIAL_HEADERS = b"GET /healthz HTTP/1.1\r\nHost: cms\r\nX-Slow: "
FULL_REQUEST = b"GET /healthz HTTP/1.1\r\nHost: cms\r\n\r\n"
GRAPHQL_WS = Subprotocol("graphql-transport-ws")
# Long enough that nothing times out by itself during a test that is not about timeouts.
LONG = "60"


@contextmanager
def server(tmp_path: Path, **settings: str) -> Iterator[tuple[str, int]]:
    env = {"CMS_DATABASE_URL": f"sqlite://{tmp_path / 'cms.sqlite3'}", **settings}
    with cms_worker(env) as base_url:
        host, port = base_url.removeprefix("http://").split(":")
        yield host, int(port)


def connect(address: tuple[str, int], source: str = "127.0.0.1") -> socket.socket:
    sock = socket.create_connection(address, timeout=10, source_address=(source, 0))
    return sock


def read_until_closed(sock: socket.socket, *, timeout: float) -> bytes:
    """Everything the server sends until it closes the connection; fails after ``timeout`` s."""
    sock.settimeout(timeout)
    received = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            break
        except ConnectionResetError:
            return received
        if not chunk:
            return received
        received += chunk
    raise AssertionError(f"the server kept the connection open for {timeout:g} s: {received!r}")


def exchange(sock: socket.socket) -> bytes:
    """Send a GET /healthz and return the whole response (it has a Content-Length)."""
    sock.sendall(FULL_REQUEST)
    received = b""
    for _ in range(100):
        head, separator, body = received.partition(b"\r\n\r\n")
        if separator and len(body) >= _content_length(head):
            return received
        chunk = sock.recv(65536)
        if not chunk:
            return received
        received += chunk
    raise AssertionError(f"no whole response in 100 reads: {received!r}")


def _content_length(head: bytes) -> int:
    for line in head.lower().split(b"\r\n"):
        if line.startswith(b"content-length:"):
            return int(line.split(b":")[1])
    return 0


def get(address: tuple[str, int], source: str, path: str = "/healthz") -> httpx.Response:
    transport = httpx.HTTPTransport(local_address=source)
    with httpx.Client(transport=transport, timeout=5) as client:
        return client.get(f"http://{address[0]}:{address[1]}{path}")


def closed(address: tuple[str, int], reason: str) -> str:
    """The server's count of connections closed for ``reason``, as /metrics shows it."""
    metrics = get(address, source="127.0.0.9", path="/metrics").text
    sample = f'cms_connections_closed_total{{reason="{reason}"}} '
    lines = [line for line in metrics.splitlines() if line.startswith(sample)]
    return lines[0].removeprefix(sample) if lines else "absent"


def test_a_client_holding_many_sockets_does_not_shut_others_out(tmp_path: Path) -> None:
    # The report's attack: 110 sockets from one address, half of them sending partial headers,
    # the rest idle. Before, uvicorn's limit_concurrency (100) counted them all, and everyone
    # else got 503 for as long as they were held.
    settings = {"CMS_HEADER_TIMEOUT": LONG, "CMS_KEEP_ALIVE_TIMEOUT": LONG}
    with (
        server(tmp_path, CMS_MAX_CONNECTIONS_PER_CLIENT="20", **settings) as address,
        ExitStack() as held,
    ):
        for index in range(110):
            sock = held.enter_context(connect(address))
            if index % 2:
                sock.sendall(PARTIAL_HEADERS)
        started = time.monotonic()
        response = get(address, source="127.0.0.2")
        assert response.status_code == 200, response.text
        assert time.monotonic() - started < 2


def test_the_connection_past_the_per_client_cap_is_refused(tmp_path: Path) -> None:
    settings = {"CMS_HEADER_TIMEOUT": LONG, "CMS_KEEP_ALIVE_TIMEOUT": LONG}
    with (
        server(tmp_path, CMS_MAX_CONNECTIONS_PER_CLIENT="3", **settings) as address,
        ExitStack() as held,
    ):
        first, *_ = [held.enter_context(connect(address)) for _ in range(3)]
        refused = read_until_closed(held.enter_context(connect(address)), timeout=5)
        assert refused.startswith(b"HTTP/1.1 503 "), refused
        assert b'"code":"SERVICE_UNAVAILABLE"' in refused
        assert b"retry-after: 1" in refused
        assert closed(address, "per_client") == "1.0"

        # Another address has its own count.
        assert get(address, source="127.0.0.2").status_code == 200
        # The held connections still work.
        assert exchange(first).startswith(b"HTTP/1.1 200 ")

        # Closing one frees its slot (once the server has seen the close).
        first.close()
        deadline = time.monotonic() + 5
        for _ in range(100):
            with connect(address) as again:
                try:
                    answer = exchange(again)
                except ConnectionResetError:  # refused: the 503 was lost to the reset
                    answer = b""
            if answer.startswith(b"HTTP/1.1 200 "):
                break
            assert time.monotonic() < deadline, answer
        else:
            raise AssertionError("the closed connection's slot was never freed")


def test_headers_that_do_not_arrive_in_time_close_the_connection(tmp_path: Path) -> None:
    with (
        server(tmp_path, CMS_HEADER_TIMEOUT="1", CMS_KEEP_ALIVE_TIMEOUT=LONG) as address,
        connect(address) as slow,
    ):
        started = time.monotonic()
        slow.sendall(PARTIAL_HEADERS)
        # Trickling bytes does not buy time (each byte used to restart uvicorn's timer).
        with pytest.raises(AssertionError, match="kept the connection open"):
            read_until_closed(slow, timeout=0.4)
        slow.sendall(b"x")
        assert read_until_closed(slow, timeout=5) == b""
        assert 0.9 < time.monotonic() - started < 3
        assert closed(address, "header_timeout") == "1.0"


def test_a_body_that_does_not_arrive_in_time_closes_the_connection_and_frees_its_slot(
    tmp_path: Path,
) -> None:
    # The app runs a request once its headers are in, so a stalled upload holds one of the
    # CMS_MAX_CONCURRENCY slots until the body timeout ends it.
    settings = {"CMS_HEADER_TIMEOUT": LONG, "CMS_KEEP_ALIVE_TIMEOUT": LONG}
    with (
        server(tmp_path, CMS_BODY_TIMEOUT="1", CMS_MAX_CONCURRENCY="1", **settings) as address,
        connect(address) as stalled,
    ):
        started = time.monotonic()
        stalled.sendall(
            b"POST /graphql HTTP/1.1\r\nHost: cms\r\nContent-Type: application/json\r\n"
            b'Content-Length: 100\r\n\r\n{"query": '
        )
        read_until_closed(stalled, timeout=5)
        assert 0.9 < time.monotonic() - started < 3
        assert get(address, source="127.0.0.2").status_code == 200
        assert closed(address, "body_timeout") == "1.0"


def test_idle_connections_are_closed_after_the_keep_alive_timeout(tmp_path: Path) -> None:
    with (
        server(tmp_path, CMS_KEEP_ALIVE_TIMEOUT="1", CMS_HEADER_TIMEOUT=LONG) as address,
        connect(address) as silent,
        connect(address) as kept_alive,
    ):
        started = time.monotonic()
        assert exchange(kept_alive).startswith(b"HTTP/1.1 200 ")
        assert read_until_closed(kept_alive, timeout=5) == b""
        # A connection that never sent a byte is idle too.
        assert read_until_closed(silent, timeout=5) == b""
        assert time.monotonic() - started < 3


def test_a_full_server_closes_the_longest_idle_connection_for_a_new_one(tmp_path: Path) -> None:
    settings = {"CMS_HEADER_TIMEOUT": LONG, "CMS_KEEP_ALIVE_TIMEOUT": LONG}
    with server(tmp_path, CMS_MAX_CONNECTIONS="3", **settings) as address, ExitStack() as held:
        oldest, busy, newer = (
            held.enter_context(connect(address, source=f"127.0.1.{n}")) for n in (1, 2, 3)
        )
        assert exchange(oldest).startswith(b"HTTP/1.1 200 ")
        busy.sendall(PARTIAL_HEADERS)  # receiving a request: not idle
        assert exchange(newer).startswith(b"HTTP/1.1 200 ")

        assert get(address, source="127.0.1.4").status_code == 200
        assert read_until_closed(oldest, timeout=2) == b""
        assert exchange(newer).startswith(b"HTTP/1.1 200 ")


def test_idle_connections_do_not_count_against_the_request_cap(tmp_path: Path) -> None:
    # CMS_MAX_CONCURRENCY caps requests in progress; it used to be uvicorn's limit_concurrency,
    # which counted an idle keep-alive connection as much as a request.
    with server(tmp_path, CMS_MAX_CONCURRENCY="1") as address, connect(address) as idle:
        assert exchange(idle).startswith(b"HTTP/1.1 200 ")
        assert get(address, source="127.0.0.2").status_code == 200


def test_a_websocket_leaves_the_http_rules_at_its_upgrade(tmp_path: Path) -> None:
    settings = {"CMS_MAX_CONNECTIONS_PER_CLIENT": "1", "CMS_HEADER_TIMEOUT": LONG}
    with (
        server(tmp_path, CMS_KEEP_ALIVE_TIMEOUT="1", **settings) as (host, port),
        websocket(f"ws://{host}:{port}/graphql", subprotocols=[GRAPHQL_WS], open_timeout=5) as ws,
    ):
        ws.send(json.dumps({"type": "connection_init"}))
        assert json.loads(ws.recv(timeout=5)) == {"type": "connection_ack"}
        # The address's one HTTP slot is free again...
        assert get((host, port), source="127.0.0.1").status_code == 200
        # ...and the idle timeout no longer applies to the WebSocket.
        with pytest.raises(TimeoutError):
            ws.recv(timeout=1.5)
        ws.send(json.dumps({"type": "ping"}))
        assert json.loads(ws.recv(timeout=5)) == {"type": "pong"}


def test_a_websocket_message_over_the_anonymous_body_cap_closes_the_socket(
    tmp_path: Path,
) -> None:
    # uvicorn reads the whole frame before connection_init can check a token, so the cap on a
    # message is the anonymous one (it was the signed-in 1 MB for anyone).
    padding = "a" * 4096
    with (
        server(tmp_path, CMS_MAX_BODY_BYTES="2048") as (host, port),
        websocket(f"ws://{host}:{port}/graphql", subprotocols=[GRAPHQL_WS], open_timeout=5) as ws,
    ):
        ws.send(json.dumps({"type": "connection_init", "payload": {"padding": padding}}))
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=5)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == CloseCode.MESSAGE_TOO_BIG


def test_uvicorn_still_calls_the_hooks_the_guard_overrides() -> None:
    # GuardedHttpProtocol overrides these: if uvicorn renamed one, the override would
    # silently stop running (the server tests above would then fail too).
    overridden = {
        name
        for name, value in vars(GuardedHttpProtocol).items()
        if callable(value) and not name.startswith("_") and name != "close_idle"
    }
    assert overridden == {
        "connection_made",
        "data_received",
        "on_headers_complete",
        "on_message_complete",
        "on_response_complete",
        "handle_websocket_upgrade",
        "connection_lost",
    }
    for name in overridden:
        assert callable(getattr(HttpToolsProtocol, name)), name


def test_ipv6_clients_are_counted_per_64_and_trusted_proxies_not_at_all() -> None:
    limits = ConnectionLimits(
        max_connections=100,
        max_per_client=1,
        header_timeout=10,
        body_timeout=30,
        idle_timeout=5,
        exempt=TrustedProxies(["10.0.0.0/8"]),
    )
    guard = ConnectionGuard(limits)

    def admit(host: str) -> bool:
        connection = cast("GuardedHttpProtocol", object())
        return guard.admit(connection, host) is None

    assert admit("2001:db8::1")
    assert not admit("2001:db8::ffff:2")  # the same /64
    assert admit("2001:db8:0:1::1")  # the next /64
    assert admit("::ffff:192.0.2.1")
    assert not admit("192.0.2.1")  # the same IPv4 client, mapped or not
    assert all(admit("10.1.2.3") for _ in range(5))  # a proxy carries everyone's traffic
