"""The GraphiQL page and its files, through the real app: asset URLs, headers, CDN and fallback.

The page tests use a stand-in vendor folder (empty files under the real names), so they run
without npm; the checks on the real, downloaded files skip until ``make assets`` has run.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest

from cms.app import create_app
from cms.settings import Settings
from cms.web import graphiql
from cms.web.graphiql import CDN_ORIGIN, SCRIPTS, STYLES, VendorFile

ROOT = Path(__file__).resolve().parents[2]
HTML = {"Accept": "text/html"}
VENDOR_FILES = (*SCRIPTS, *STYLES)
# The same source of truth as the browser: the example query is read out of the init script.
INIT_SCRIPT = graphiql.STATIC_DIR / "graphiql-init.js"


def csp_directives(response: httpx.Response) -> dict[str, str]:
    policy = response.headers["Content-Security-Policy"]
    return dict(
        directive.strip().split(" ", 1) for directive in policy.split(";") if directive.strip()
    )


def script_sources(page: str) -> list[str]:
    return re.findall(r'<script src="([^"]+)"', page)


@pytest.fixture
def static_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of cms/web/static whose vendor folder holds stand-ins for the four files."""
    static = tmp_path / "static"
    shutil.copytree(graphiql.STATIC_DIR, static, ignore=shutil.ignore_patterns("vendor"))
    (static / "vendor").mkdir()
    for file in VENDOR_FILES:
        (static / "vendor" / file.name).write_text(f"/* stand-in for {file.name} */\n")
    (static / "vendor" / ".installed").touch()
    monkeypatch.setattr(graphiql, "STATIC_DIR", static)
    monkeypatch.setattr(graphiql, "VENDOR_DIR", static / "vendor")
    return static


@asynccontextmanager
async def app_client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    # Built after static_dir has pointed the module at the stand-in folder.
    transport = httpx.ASGITransport(app=create_app(settings, manage_database=False))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


@pytest.fixture
async def local(static_dir: Path, settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The app serving GraphiQL from its own (stand-in) vendor files."""
    async with app_client(settings) as client:
        yield client


@pytest.fixture
async def cdn(static_dir: Path, settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The app with ``CMS_GRAPHIQL_CDN=true``."""
    async with app_client(settings.model_copy(update={"graphiql_cdn": True})) as client:
        yield client


async def test_page_loads_react_and_graphiql_from_this_server(local: httpx.AsyncClient) -> None:
    response = await local.get("/graphql", headers=HTML)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert script_sources(response.text) == [
        *(f"/static/graphiql/vendor/{file.name}?v={file.version}" for file in SCRIPTS),
        "/static/graphiql/graphiql-init.js",
    ]
    assert '<link rel="stylesheet" href="/static/graphiql/vendor/graphiql.min.css?v=' in (
        response.text
    )
    links = re.findall(r'(?:src|href)="([^"]*)"', response.text)
    assert links
    assert all(link.startswith(("/static/graphiql/", "data:")) for link in links), links


async def test_page_has_no_inline_script(local: httpx.AsyncClient) -> None:
    page = (await local.get("/graphql", headers=HTML)).text
    scripts = re.findall(r"<script\b[^>]*>(.*?)</script>", page, flags=re.DOTALL)
    assert len(scripts) == len(SCRIPTS) + 1
    assert all(body.strip() == "" for body in scripts)
    assert not re.search(r"<[^>]*\son\w+=", page), "inline event handler"


async def test_page_tells_graphiql_to_post_to_the_endpoint_it_was_served_from(
    local: httpx.AsyncClient,
) -> None:
    page = (await local.get("/graphql", headers=HTML)).text
    assert '<div id="graphiql" data-endpoint="/graphql">' in page


async def test_page_allows_only_its_own_scripts(local: httpx.AsyncClient) -> None:
    response = await local.get("/graphql", headers=HTML)
    csp = csp_directives(response)
    assert csp["default-src"] == "'none'"
    assert csp["script-src"] == "'self'"
    assert csp["connect-src"] == "'self'"
    assert csp["frame-ancestors"] == "'none'"
    assert csp["base-uri"] == "'none'"
    assert "unsafe" not in csp["script-src"]
    assert "cdn" not in response.headers["Content-Security-Policy"]


@pytest.mark.parametrize(
    ("header", "value"),
    [
        pytest.param("X-Content-Type-Options", "nosniff", id="nosniff"),
        pytest.param("Referrer-Policy", "same-origin", id="referrer"),
        pytest.param("X-Frame-Options", "DENY", id="frames"),
        pytest.param("Cache-Control", "no-cache", id="cache"),
    ],
)
async def test_page_sends_security_headers(
    local: httpx.AsyncClient, header: str, value: str
) -> None:
    response = await local.get("/graphql", headers=HTML)
    assert response.headers[header] == value


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        pytest.param("graphiql-init.js", "javascript", id="init-js"),
        pytest.param("graphiql.css", "text/css", id="page-css"),
        pytest.param("vendor/react.production.min.js", "javascript", id="react"),
        pytest.param("vendor/react-dom.production.min.js", "javascript", id="react-dom"),
        pytest.param("vendor/graphiql.min.js", "javascript", id="graphiql-js"),
        pytest.param("vendor/graphiql.min.css", "text/css", id="graphiql-css"),
    ],
)
async def test_static_files_are_served_with_their_content_type(
    local: httpx.AsyncClient, path: str, content_type: str
) -> None:
    response = await local.get(f"/static/graphiql/{path}")
    assert response.status_code == 200
    assert content_type in response.headers["content-type"]
    # Browsers then refuse to run a file of any other type as a script.
    assert response.headers["X-Content-Type-Options"] == "nosniff"


async def test_every_file_the_page_links_is_served(local: httpx.AsyncClient) -> None:
    page = (await local.get("/graphql", headers=HTML)).text
    links = re.findall(r'(?:src|href)="(/static/[^"]+)"', page)
    assert len(links) == len(VENDOR_FILES) + 2
    for link in links:
        assert (await local.get(link)).status_code == 200, link


@pytest.mark.parametrize(
    "path",
    [
        pytest.param("vendor/.installed", id="make-stamp"),
        pytest.param("vendor/missing.js", id="missing"),
        pytest.param("vendor", id="directory"),
    ],
)
async def test_static_mount_serves_nothing_else(local: httpx.AsyncClient, path: str) -> None:
    response = await local.get(f"/static/graphiql/{path}")
    assert response.status_code == 404


async def test_cdn_mode_loads_the_pinned_versions_checked_by_integrity(
    cdn: httpx.AsyncClient,
) -> None:
    page = (await cdn.get("/graphql", headers=HTML)).text
    assert script_sources(page) == [
        *(file.cdn_url for file in SCRIPTS),
        "/static/graphiql/graphiql-init.js",
    ]
    for file in VENDOR_FILES:
        assert f'{file.package}@{file.version}/{file.path}" integrity="{file.integrity}"' in page
    assert page.count('crossorigin="anonymous"') == len(VENDOR_FILES)
    assert "/static/graphiql/vendor/" not in page


async def test_cdn_mode_allows_the_cdn_host_and_nothing_more(cdn: httpx.AsyncClient) -> None:
    csp = csp_directives(await cdn.get("/graphql", headers=HTML))
    assert csp["script-src"] == f"'self' {CDN_ORIGIN}"
    assert csp["style-src"].startswith(f"'self' {CDN_ORIGIN}")
    assert csp["connect-src"] == "'self'"


async def test_cdn_mode_works_without_local_files(cdn: httpx.AsyncClient, static_dir: Path) -> None:
    shutil.rmtree(static_dir / "vendor")
    response = await cdn.get("/graphql", headers=HTML)
    assert response.status_code == 200
    assert SCRIPTS[-1].cdn_url in response.text


async def test_missing_files_page_says_how_to_get_them(
    local: httpx.AsyncClient, static_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (static_dir / "vendor" / "graphiql.min.js").unlink()
    response = await local.get("/graphql", headers=HTML)
    assert response.status_code == 503
    assert "make assets" in response.text
    assert "CMS_GRAPHIQL_CDN=true" in response.text
    assert "<script" not in response.text
    assert csp_directives(response)["script-src"] == "'self'"
    assert "make assets" in caplog.text


async def test_api_still_answers_json_requests(local: httpx.AsyncClient) -> None:
    response = await local.get("/graphql", params={"query": "{ __typename }"})
    assert response.json() == {"data": {"__typename": "Query"}}


def default_query() -> str:
    source = INIT_SCRIPT.read_text(encoding="utf-8")
    block = re.search(r"var DEFAULT_QUERY = \[(.*?)\]\.join", source, flags=re.DOTALL)
    assert block, "graphiql-init.js no longer defines DEFAULT_QUERY as an array of lines"
    return "\n".join(json.loads(line) for line in re.findall(r'^\s*(".*"),$', block[1], re.M))


async def test_example_query_runs_against_the_schema(client: httpx.AsyncClient) -> None:
    query = default_query()
    assert "posts(first:" in query
    assert "sections" in query
    response = await client.post("/graphql", json={"query": query})
    assert response.json() == {"data": {"posts": {"totalCount": 0, "edges": []}}}


def test_no_static_route_when_graphiql_is_off(settings: Settings) -> None:
    assert graphiql.graphiql_routes(settings.model_copy(update={"graphiql": False})) == []


def test_pinned_versions_match_package_json_and_its_lock() -> None:
    manifest = json.loads((ROOT / "package.json").read_text())
    lock = json.loads((ROOT / "package-lock.json").read_text())
    for file in VENDOR_FILES:
        assert manifest["dependencies"][file.package] == file.version
        locked = lock["packages"][f"node_modules/{file.package}"]
        assert locked["version"] == file.version
        assert locked["integrity"].startswith("sha512-")


def test_make_assets_copies_every_file_the_page_loads() -> None:
    makefile = (ROOT / "Makefile").read_text()
    for file in VENDOR_FILES:
        assert f"node_modules/{file.package}/{file.path}" in makefile


def sri(path: Path) -> str:
    return "sha384-" + base64.b64encode(hashlib.sha384(path.read_bytes()).digest()).decode()


@pytest.mark.parametrize("file", VENDOR_FILES, ids=lambda file: file.name)
def test_installed_files_match_their_integrity_pins(file: VendorFile) -> None:
    # The real folder: the fixtures above never touch it.
    installed = graphiql.VENDOR_DIR / file.name
    if not installed.is_file():
        pytest.skip(f"{installed} is missing: run `make assets`")
    assert sri(installed) == file.integrity
