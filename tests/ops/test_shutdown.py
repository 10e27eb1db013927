"""SIGTERM lets a request in flight finish before `cms serve` exits.

The request is kept in flight by its client: the headers and half of the body arrive before
the signal, the rest only once the server says it is waiting for open connections.
"""

from __future__ import annotations

import json
import os
import signal
import socket
from pathlib import Path

from tests.ops.servers import cms, serving, wait_for

QUERY = json.dumps({"query": "{ posts(first: 1) { totalCount } }"}).encode()


def test_sigterm_lets_a_request_in_flight_finish(tmp_path: Path) -> None:
    env = {**os.environ, "CMS_DATABASE_URL": f"sqlite://{tmp_path / 'cms.sqlite3'}"}
    assert cms("migrate", env=env).returncode == 0
    with serving(tmp_path, env) as server:
        half = len(QUERY) // 2
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as connection:
            connection.sendall(
                b"POST /graphql HTTP/1.1\r\nHost: cms\r\nContent-Type: application/json\r\n"
                + f"Content-Length: {len(QUERY)}\r\n\r\n".encode()
                + QUERY[:half]
            )
            server.process.send_signal(signal.SIGTERM)
            wait_for(
                lambda: any(
                    line.get("event", "").startswith("Waiting for connections to close")
                    for line in server.log_lines()
                ),
                timeout=10,
                what="the server to wait for the open request",
            )
            connection.sendall(QUERY[half:])
            response = receive_all(connection)
        # uvicorn re-raises the signal once it has shut down cleanly, as the convention is.
        assert server.process.wait(timeout=30) in (0, -signal.SIGTERM)
        events = [line.get("event") for line in server.log_lines()]
        assert "Application shutdown complete." in events
    status_line, _, rest = response.partition(b"\r\n")
    assert status_line == b"HTTP/1.1 200 OK"
    assert b"connection: close" in rest.lower()
    body = json.loads(rest.partition(b"\r\n\r\n")[2])
    assert body["data"] == {"posts": {"totalCount": 0}}


def receive_all(connection: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection."""
    chunks = []
    while chunk := connection.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)
