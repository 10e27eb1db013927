"""GraphiQL in a real browser: the page served by uvicorn runs queries in headless Chromium.

The server runs in a subprocess (its own event loop and its own migrated SQLite file, so the
ORM state of the in-process tests is left alone). Every request the page makes is checked to
stay on 127.0.0.1, which proves the IDE works offline, and every console error (a CSP
violation, a failed integrity check, a script that did not load) fails the test. CDN mode is
checked offline too: the browser's requests to the CDN are answered with the local files.

Needs Debian's ``chromium`` (or ``CMS_TEST_CHROMIUM``), the ``playwright`` package (which
drives it; its own browser downloads are never used) and ``make assets``; skips otherwise.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import httpx
import pytest

from cms.web.graphiql import CDN_ORIGIN, SCRIPTS, STYLES, VENDOR_DIR, vendor_files_installed

if TYPE_CHECKING:
    from playwright.async_api import Page, Route

pytestmark = pytest.mark.browser

CHROMIUM = Path(os.environ.get("CMS_TEST_CHROMIUM", "/usr/bin/chromium"))
if not CHROMIUM.is_file():
    pytest.skip(
        f"no Chromium at {CHROMIUM}: apt-get install chromium (or set CMS_TEST_CHROMIUM)",
        allow_module_level=True,
    )
if not vendor_files_installed():
    pytest.skip("GraphiQL's files are not installed: run `make assets`", allow_module_level=True)
playwright = pytest.importorskip(
    "playwright.async_api", reason="the playwright package drives Chromium: pip install it"
)

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Migrates a fresh database, then serves the real app the way `cms serve` would.
SERVER = """
import asyncio, sys
import uvicorn
from tortoise import Tortoise
from cms.app import create_app
from cms.db import apply_migrations
from cms.settings import get_settings

settings = get_settings()

async def migrate():
    await apply_migrations(settings)
    await Tortoise.close_connections()

asyncio.run(migrate())
uvicorn.run(create_app(settings), host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
"""
LOCAL_HOSTS: set[str | None] = {"127.0.0.1", "localhost"}
EDITOR = ".graphiql-query-editor .CodeMirror"
RUN_BUTTON = ".graphiql-execute-button"
RESULT = ".graphiql-response"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_until_serving(url: str, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"the server exited with {server.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    pytest.fail(f"the server did not answer within 30 s:\n{log.read_text()}")


@dataclass(frozen=True)
class Server:
    url: str
    log: Path

    @contextmanager
    def explaining_failures(self) -> Iterator[None]:
        """Add the server's log (its tracebacks) to a failed assertion about what it served."""
        try:
            yield
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n\nThe server logged:\n{self.log.read_text()}") from exc


@contextmanager
def serve(folder: Path, *, cdn: bool) -> Iterator[Server]:
    """Run the real app with uvicorn on a free localhost port."""
    port = free_port()
    env = {
        **os.environ,
        "CMS_ENV": "test",
        "CMS_DATABASE_URL": f"sqlite://{folder / 'cms.sqlite3'}",
        "CMS_GRAPHIQL": "true",
        "CMS_GRAPHIQL_CDN": str(cdn).lower(),
    }
    log = folder / "server.log"
    with log.open("wb") as output:
        server = subprocess.Popen(  # noqa: S603 - our own interpreter and script
            [sys.executable, "-c", SERVER, str(port)],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(url, server, log)
        yield Server(url, log)
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


@pytest.fixture(scope="module")
def local_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with serve(tmp_path_factory.mktemp("local"), cdn=False) as server:
        yield server


@pytest.fixture(scope="module")
def cdn_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with serve(tmp_path_factory.mktemp("cdn"), cdn=True) as server:
        yield server


@dataclass
class Visit:
    """A page in Chromium, with every URL it requested and every error it logged."""

    page: Page
    requested: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def hosts(self) -> set[str | None]:
        return {urlsplit(url).hostname for url in self.requested if not url.startswith("data:")}


@asynccontextmanager
async def chromium() -> AsyncIterator[Visit]:
    async with playwright.async_playwright() as driver:
        browser = await driver.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            visit = Visit(await browser.new_page())
            visit.page.on("request", lambda request: visit.requested.append(request.url))
            # CSP violations, failed integrity checks and failed loads all arrive as errors.
            visit.page.on(
                "console",
                lambda message: (
                    visit.errors.append(message.text) if message.type == "error" else None
                ),
            )
            visit.page.on("pageerror", lambda error: visit.errors.append(str(error)))
            yield visit
        finally:
            await browser.close()


async def type_query(page: Page, query: str) -> None:
    """Replace the editor's text by typing, as a person would."""
    editor = page.locator(EDITOR)
    await editor.click()
    await page.keyboard.press("ControlOrMeta+A")
    await page.keyboard.press("Delete")
    await page.keyboard.type(query)
    await page.keyboard.press("Escape")  # closes the completion list, if open
    await playwright.expect(editor).to_contain_text(query)
    # GraphiQL re-reads the operation name shortly after an edit; clicking sooner than any
    # person could would still send the previous query's name.
    await page.wait_for_timeout(500)


async def run_query(page: Page, *, expect: str) -> None:
    await page.locator(RUN_BUTTON).click()
    await playwright.expect(page.locator(RESULT)).to_contain_text(expect)


async def test_graphiql_runs_queries_offline_in_chromium(
    local_server: Server, tmp_path: Path
) -> None:
    with local_server.explaining_failures():
        async with chromium() as visit:
            page = visit.page
            await page.goto(f"{local_server.url}/graphql", wait_until="networkidle")
            assert visit.errors == []
            await playwright.expect(page.locator(EDITOR)).to_contain_text("query NewestPosts")

            # First the example query the page opens with, then one typed in by hand.
            await run_query(page, expect='"totalCount": 0')
            await type_query(page, "{ __typename }")
            await run_query(page, expect='"__typename": "Query"')

            # Dialogs add <style> elements at run time: the policy must let them (no errors).
            await page.get_by_label("Open settings dialog").click()
            await playwright.expect(page.get_by_role("dialog")).to_be_visible()
            await page.keyboard.press("Escape")
            await playwright.expect(page.get_by_role("dialog")).to_have_count(0)

            await page.screenshot(path=tmp_path / "graphiql.png")

    assert visit.errors == []
    assert f"{local_server.url}/graphql" in visit.requested
    assert any("/static/graphiql/vendor/graphiql.min.js" in url for url in visit.requested)
    assert visit.hosts() <= LOCAL_HOSTS, visit.requested


async def test_cdn_mode_files_pass_their_integrity_checks(cdn_server: Server) -> None:
    # The browser asks the CDN; this route answers with the files `make assets` installed,
    # so Chromium checks the pinned SRI hashes against the real bytes, still offline.
    by_url = {file.cdn_url: file for file in (*SCRIPTS, *STYLES)}
    answered: list[str] = []

    async def from_vendor_folder(route: Route) -> None:
        file = by_url.get(route.request.url)
        if file is None:
            await route.abort()
            return
        answered.append(route.request.url)
        await route.fulfill(
            path=VENDOR_DIR / file.name,
            content_type="text/css" if file.name.endswith(".css") else "text/javascript",
            # The tags carry crossorigin="anonymous", so the browser wants a CORS answer.
            headers={"Access-Control-Allow-Origin": "*"},
        )

    with cdn_server.explaining_failures():
        async with chromium() as visit:
            page = visit.page
            await page.route(f"{CDN_ORIGIN}/**", from_vendor_folder)
            await page.goto(f"{cdn_server.url}/graphql", wait_until="networkidle")
            assert visit.errors == []  # a hash that does not match is reported here
            await type_query(page, "{ __typename }")
            await run_query(page, expect='"__typename": "Query"')

    assert visit.errors == []
    assert sorted(answered) == sorted(by_url)
    assert visit.hosts() <= {*LOCAL_HOSTS, urlsplit(CDN_ORIGIN).hostname}, visit.requested
