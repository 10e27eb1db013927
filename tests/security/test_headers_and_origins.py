"""Browser-facing boundaries: baseline headers, CORS, and the WebSocket handshake's origin."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from starlette.applications import Starlette

from cms.app import create_app
from cms.settings import Settings
from cms.web.security import BASELINE_HEADERS
from tests.security.conftest import OpenClient

ALLOWED = "https://site.example"
EVIL = "https://evil.example"


# Guards SecurityHeaders: every response, refusals included, carries the baseline.
@pytest.mark.parametrize(
    ("method", "path", "kwargs"),
    [
        pytest.param("POST", "/graphql", {"json": {"query": "{ __typename }"}}, id="graphql"),
        pytest.param("POST", "/graphql", {"content": "x"}, id="refused-415"),
        pytest.param("GET", "/healthz", {}, id="health"),
        pytest.param("GET", "/nowhere", {}, id="not-found"),
    ],
)
async def test_responses_carry_the_baseline_security_headers(
    client: httpx.AsyncClient, method: str, path: str, kwargs: dict
) -> None:
    response = await client.request(method, path, **kwargs)
    for name, value in BASELINE_HEADERS.items():
        assert response.headers.get(name) == value, name


async def test_the_graphiql_page_keeps_its_own_policy(client: httpx.AsyncClient) -> None:
    page = await client.get("/graphql", headers={"Accept": "text/html"})
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["x-content-type-options"] == "nosniff"


# Guards "no CORS origins by default": another site's page may not read responses.
async def test_no_origin_may_read_responses_by_default(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/graphql", json={"query": "{ __typename }"}, headers={"Origin": EVIL}
    )
    preflight = await client.options(
        "/graphql",
        headers={"Origin": EVIL, "Access-Control-Request-Method": "POST"},
    )
    assert "access-control-allow-origin" not in response.headers
    assert "access-control-allow-origin" not in preflight.headers


# Guards CMS_CORS_ORIGINS: listed origins may call the API, others still may not.
async def test_a_listed_origin_may_call_the_api(app_client: OpenClient) -> None:
    async with app_client(cors_origins=[ALLOWED]) as client:
        preflight = await client.options(
            "/graphql",
            headers={
                "Origin": ALLOWED,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization, content-type",
            },
        )
        allowed = await client.post(
            "/graphql", json={"query": "{ __typename }"}, headers={"Origin": ALLOWED}
        )
        other = await client.post(
            "/graphql", json={"query": "{ __typename }"}, headers={"Origin": EVIL}
        )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == ALLOWED
    assert "authorization" in preflight.headers["access-control-allow-headers"].lower()
    assert allowed.headers["access-control-allow-origin"] == ALLOWED
    assert "access-control-allow-credentials" not in allowed.headers
    assert "access-control-allow-origin" not in other.headers


async def test_a_rate_limited_answer_is_readable_by_a_listed_origin(
    app_client: OpenClient,
) -> None:
    async with app_client(cors_origins=[ALLOWED], rate_limit_requests=1) as client:
        await client.post("/graphql", json={"query": "{ __typename }"})
        refused = await client.post(
            "/graphql", json={"query": "{ __typename }"}, headers={"Origin": ALLOWED}
        )
    assert refused.status_code == 429
    assert refused.headers["access-control-allow-origin"] == ALLOWED
    assert "retry-after" in refused.headers["access-control-expose-headers"].lower()


async def handshake(target: Settings | Starlette, origin: str) -> str:
    """Open /graphql as a browser on ``origin`` would; the app's first answer's type."""
    app = target if isinstance(target, Starlette) else create_app(target, manage_database=False)
    scope = {
        "type": "websocket",
        "asgi": {"version": "3.0"},
        "scheme": "ws",
        "path": "/graphql",
        "raw_path": b"/graphql",
        "root_path": "",
        "query_string": b"",
        "headers": [
            (b"host", b"testserver"),
            (b"origin", origin.encode()),
            (b"sec-websocket-protocol", b"graphql-transport-ws"),
        ],
        "subprotocols": ["graphql-transport-ws"],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
        "state": {},
    }
    incoming = [{"type": "websocket.connect"}, {"type": "websocket.disconnect", "code": 1000}]
    answers: list[dict] = []

    async def receive() -> dict:
        return incoming.pop(0) if incoming else {"type": "websocket.disconnect", "code": 1000}

    async def send(message: dict) -> None:
        answers.append(message)

    await asyncio.wait_for(app(scope, receive, send), timeout=10)
    return str(answers[0]["type"])


# Guards the WebSocket origin check: a page elsewhere cannot open a connection in its visitor's
# name. (Non-browser clients send no Origin and are not concerned.)
async def test_a_websocket_handshake_from_another_origin_is_refused(settings: Settings) -> None:
    assert await handshake(settings, EVIL) == "websocket.close"


async def test_a_websocket_handshake_from_a_listed_origin_is_accepted(
    settings: Settings,
) -> None:
    listed = settings.model_copy(update={"cors_origins": [ALLOWED]})
    assert await handshake(listed, ALLOWED) == "websocket.accept"


async def test_a_websocket_handshake_from_the_same_origin_is_accepted(
    settings: Settings,
) -> None:
    assert await handshake(settings, "http://testserver") == "websocket.accept"


# Guards RateLimitMiddleware on WebSockets: a handshake is a request like any other.
async def test_websocket_handshakes_count_against_the_request_allowance(
    settings: Settings,
) -> None:
    app = create_app(settings.model_copy(update={"rate_limit_requests": 1}), manage_database=False)
    assert await handshake(app, "http://testserver") == "websocket.accept"
    assert await handshake(app, "http://testserver") == "websocket.close"
