"""Against a real ``cms serve``: heavy markdown never holds up the worker (issue #12, part 3).

Before, a read rendered every section on the event loop: five 100 KB sections of ``![`` took
18.9 s to read, and every other request to that worker waited as long.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from cms.rendering.markdown import MAX_LINK_OPENERS
from tests.security.test_live_server import UNLIMITED, LiveServer

pytestmark = pytest.mark.server

ATTACK = "![" * (100 * 1024 // 2)
# Within the shape bound, and about as slow per byte as markdown-it gets (~0.6 s each).
HEAVY = ("![" * (MAX_LINK_OPENERS - 1) + "\n\n" + "lorem ipsum *dolor* sit amet\n" * 3000)[
    : 100 * 1024
]
CREATE = """
mutation($input: CreatePostInput!) {
  createPost(input: $input) { post { slug } errors { code field message } }
}
"""
READ = '{ post(slug: "heavy") { sections { html plainText } } }'
PASSWORD = "a-long-enough-password"


def create_author(server: LiveServer) -> None:
    subprocess.run(
        [sys.executable, "-m", "cms", "user", "create", "--email", "w@example.org", "--name", "W"],
        env=server.env,
        input=PASSWORD + "\n",
        text=True,
        check=True,
        capture_output=True,
        timeout=60,
    )


async def post(client: httpx.AsyncClient, query: str, **variables: Any) -> dict[str, Any]:
    response = await client.post("/graphql", json={"query": query, "variables": variables})
    body: dict[str, Any] = response.json()
    return body


async def timed(client: httpx.AsyncClient, query: str, **variables: Any) -> float:
    started = time.monotonic()
    await post(client, query, **variables)
    return time.monotonic() - started


def test_heavy_sections_are_refused_or_rendered_at_write_and_read_in_milliseconds(
    tmp_path: Path,
) -> None:
    with LiveServer(tmp_path / "cms.sqlite3", **UNLIMITED) as server:
        create_author(server)
        asyncio.run(_scenario(server.url.removesuffix("/graphql")))


async def _scenario(base_url: str) -> None:
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as anonymous:
        login = await post(
            anonymous,
            "mutation($e: String!, $p: String!) { login(input: {email: $e, password: $p}) "
            "{ token } }",
            e="w@example.org",
            p=PASSWORD,
        )
        token = login["data"]["login"]["token"]
        headers = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(base_url=base_url, timeout=60, headers=headers) as author:
            # The attack: refused at once, naming the limit, with nothing written.
            started = time.monotonic()
            refused = await post(
                author,
                CREATE,
                input={"title": "A", "slug": "attack", "sections": [{"body": ATTACK}] * 5},
            )
            assert time.monotonic() - started < 2
            errors = refused["data"]["createPost"]["errors"]
            assert [e["field"] for e in errors] == [f"sections.{i}.body" for i in range(5)]
            assert {e["code"] for e in errors} == {"BAD_USER_INPUT"}

            # Heavy but allowed: rendered at write time, off the event loop, so that
            # another request is answered while the write renders.
            write = asyncio.create_task(
                post(
                    author,
                    CREATE,
                    input={"title": "H", "slug": "heavy", "sections": [{"body": HEAVY}] * 5},
                )
            )
            meanwhile: list[float] = []
            while not write.done():  # bounded by the write, itself bounded by the renderer
                meanwhile.append(await timed(anonymous, "{ posts { totalCount } }"))
            written = await write
            assert written["data"]["createPost"]["errors"] == []
            assert len(meanwhile) > 1, "the write did not take long enough to overlap"
            assert max(meanwhile) < 1, meanwhile

            # The author reads the draft back: milliseconds, however heavy the markdown.
            reads = [await timed(author, READ) for _ in range(3)]
            assert min(reads) < 0.5, reads
            answer = await post(author, READ)
            assert len(answer["data"]["post"]["sections"]) == 5
