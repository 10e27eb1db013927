"""CMS_MAX_CONCURRENCY caps requests in progress (cms.web.concurrency), and only requests.

That idle connections do not count is tested against a real `cms serve` in
tests/web/test_connections.py.
"""

from __future__ import annotations

import asyncio

import httpx
from starlette.responses import PlainTextResponse
from starlette.types import Receive, Scope, Send

from cms.web.concurrency import ConcurrencyLimit


async def test_a_request_past_the_cap_is_answered_503_at_once() -> None:
    entered = asyncio.Event()
    release = asyncio.Event()

    async def slow(scope: Scope, receive: Receive, send: Send) -> None:
        entered.set()
        await release.wait()
        await PlainTextResponse("done")(scope, receive, send)

    transport = httpx.ASGITransport(app=ConcurrencyLimit(slow, limit=1))
    async with (
        httpx.AsyncClient(transport=transport, base_url="http://testserver") as client,
        asyncio.timeout(5),
    ):
        first = asyncio.create_task(client.get("/"))
        await entered.wait()
        refused = await client.get("/")
        assert refused.status_code == 503
        assert refused.headers["Retry-After"] == "1"
        assert refused.json()["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE"

        release.set()
        assert (await first).text == "done"
        # The slot is free again.
        assert (await client.get("/")).text == "done"
