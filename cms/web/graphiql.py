"""The GraphiQL page: its HTML, its security headers and the static files it loads.

GraphiQL 3 ships a UMD bundle that runs on React 18's UMD builds without a bundler, so the
page is plain HTML that loads four vendor files and our own ``static/graphiql-init.js``.
``make assets`` installs the versions pinned in package.json / package-lock.json with
``npm ci`` and copies those files into ``static/vendor/`` (git-ignored), from where
:func:`graphiql_routes` serves them, so the IDE works offline.

Where npm is missing, ``CMS_GRAPHIQL_CDN=true`` loads the same pinned files from jsDelivr,
checked by Subresource Integrity. With neither, the page says how to get the files instead
of failing quietly in the browser.

No inline script runs on the page, so its Content-Security-Policy allows scripts from our
own origin (and the CDN, in CDN mode) only.
"""

from __future__ import annotations

import html
import logging
import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path, PurePosixPath
from string import Template
from typing import TYPE_CHECKING

from starlette.exceptions import HTTPException
from starlette.responses import HTMLResponse, Response
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.routing import BaseRoute
    from starlette.types import Scope

    from cms.settings import Settings

__all__ = [
    "CDN_ORIGIN",
    "SCRIPTS",
    "STATIC_DIR",
    "STATIC_PREFIX",
    "STYLES",
    "VENDOR_DIR",
    "VendorFile",
    "content_security_policy",
    "graphiql_routes",
    "render_graphiql",
    "vendor_files_installed",
]

logger = logging.getLogger(__name__)

WEB_DIR = Path(__file__).resolve().parent
STATIC_DIR = WEB_DIR / "static"
VENDOR_DIR = STATIC_DIR / "vendor"
TEMPLATE_PATH = WEB_DIR / "templates" / "graphiql.html"

STATIC_PREFIX = "/static/graphiql"
STATIC_ROUTE_NAME = "graphiql-static"
CDN_ORIGIN = "https://cdn.jsdelivr.net"


@dataclass(frozen=True, slots=True)
class VendorFile:
    """One browser file of a pinned npm package, as copied into ``static/vendor/``."""

    package: str
    version: str
    path: str
    """Where the file lies inside the npm package."""
    integrity: str
    """The Subresource Integrity hash of the file, checked by the browser in CDN mode."""

    @property
    def name(self) -> str:
        """The file's name in ``static/vendor/`` (``make assets`` copies it flat)."""
        return PurePosixPath(self.path).name

    @property
    def cdn_url(self) -> str:
        return f"{CDN_ORIGIN}/npm/{self.package}@{self.version}/{self.path}"


# The versions must match package.json and the hashes the files that package-lock.json pins
# (tests/web/test_graphiql.py checks both). GraphiQL 3.9 is the last line with a UMD bundle;
# 4 and later are ES modules with Monaco web workers, which need a bundler to serve offline.
GRAPHIQL_VERSION = "3.9.0"
REACT_VERSION = "18.3.1"  # React 19 ships no UMD builds.

# In load order: GraphiQL's bundle reads window.React and window.ReactDOM when it runs.
SCRIPTS = (
    VendorFile(
        "react",
        REACT_VERSION,
        "umd/react.production.min.js",
        "sha384-DGyLxAyjq0f9SPpVevD6IgztCFlnMF6oW/XQGmfe+IsZ8TqEiDrcHkMLKI6fiB/Z",
    ),
    VendorFile(
        "react-dom",
        REACT_VERSION,
        "umd/react-dom.production.min.js",
        "sha384-gTGxhz21lVGYNMcdJOyq01Edg0jhn/c22nsx0kyqP0TxaV5WVdsSH1fSDUf5YJj1",
    ),
    VendorFile(
        "graphiql",
        GRAPHIQL_VERSION,
        "graphiql.min.js",
        "sha384-8NGfVj4CVlqHajlZj+bPJT4thxPMHMJYn7DWK2CvtopLd02E7qsPHazniBYvVjOO",
    ),
)
STYLES = (
    VendorFile(
        "graphiql",
        GRAPHIQL_VERSION,
        "graphiql.min.css",
        "sha384-QMux00XgRtwRLSYIY3kw2rj1ovk5AuuliAchk+HSQbqdbGFnz9GYuqIlOqxhwCE2",
    ),
)

MISSING_ASSETS_NOTICE = """\
    <main class="cms-notice">
      <h1>GraphiQL's files are not installed</h1>
      <p>This server serves GraphiQL from its own files, which are not in
        <code>cms/web/static/vendor/</code> yet. Either install them (this needs Node.js and
        npm) and reload this page:</p>
      <pre>make assets</pre>
      <p>or load the same pinned versions from the jsDelivr CDN by starting the server with
        <code>CMS_GRAPHIQL_CDN=true</code>.</p>
      <p>The GraphQL API itself works either way: POST queries as JSON to
        <code>$endpoint</code>.</p>
    </main>"""

GRAPHIQL_ROOT = """\
    <div id="graphiql" data-endpoint="$endpoint">
      <p class="cms-notice">Loading GraphiQL…</p>
    </div>
    <noscript><p class="cms-notice">GraphiQL needs JavaScript.</p></noscript>"""


def vendor_files_installed() -> bool:
    """Whether ``make assets`` has put every file the page loads into ``static/vendor/``."""
    return all((VENDOR_DIR / file.name).is_file() for file in (*SCRIPTS, *STYLES))


def content_security_policy(*, cdn: bool) -> str:
    """The page's policy: our own files only, plus the CDN's host in CDN mode."""
    assets = f"'self' {CDN_ORIGIN}" if cdn else "'self'"
    directives = {
        "default-src": "'none'",
        "script-src": assets,
        # GraphiQL 3's dialogs (Radix UI, through react-remove-scroll) add a <style> element
        # when they open, which 'self' alone blocks (the browser test opens one). A style can
        # restyle the page but not run code: scripts stay strict.
        "style-src": f"{assets} 'unsafe-inline'",
        # GraphiQL's stylesheet embeds its fonts and icons as data: URLs.
        "font-src": "'self' data:",
        "img-src": "'self' data:",
        "connect-src": "'self'",
        "base-uri": "'none'",
        "form-action": "'none'",
        "frame-ancestors": "'none'",
    }
    return "; ".join(f"{name} {value}" for name, value in directives.items())


def security_headers(*, cdn: bool) -> dict[str, str]:
    return {
        "Content-Security-Policy": content_security_policy(cdn=cdn),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
        "X-Frame-Options": "DENY",  # frame-ancestors' predecessor, for older browsers
        "Cross-Origin-Opener-Policy": "same-origin",
        # The page changes with CMS_GRAPHIQL_CDN and with `make assets`: always revalidate.
        "Cache-Control": "no-cache",
    }


def render_graphiql(request: Request, settings: Settings) -> Response:
    """The GraphiQL page for ``request``, or the page saying how to install its files."""
    endpoint = html.escape(request.url.path)
    own_css = _stylesheet_tag(_static_url(request, "graphiql.css"))
    cdn = settings.graphiql_cdn
    if cdn:
        styles = [_stylesheet_tag(file.cdn_url, file.integrity) for file in STYLES]
        scripts = [_script_tag(file.cdn_url, file.integrity) for file in SCRIPTS]
    elif vendor_files_installed():
        styles = [_stylesheet_tag(_vendor_url(request, file)) for file in STYLES]
        scripts = [_script_tag(_vendor_url(request, file)) for file in SCRIPTS]
    else:
        logger.warning(
            "GraphiQL's files are missing from %s: run `make assets` or set CMS_GRAPHIQL_CDN=true",
            VENDOR_DIR,
        )
        page = _template().substitute(
            stylesheets=own_css,
            body=Template(MISSING_ASSETS_NOTICE).substitute(endpoint=endpoint),
            scripts="",
        )
        return HTMLResponse(page, status_code=503, headers=security_headers(cdn=False))

    page = _template().substitute(
        # Our stylesheet comes last so that its layout rules win.
        stylesheets="\n".join([*styles, own_css]),
        body=Template(GRAPHIQL_ROOT).substitute(endpoint=endpoint),
        scripts="\n".join([*scripts, _script_tag(_static_url(request, "graphiql-init.js"))]),
    )
    return HTMLResponse(page, headers=security_headers(cdn=cdn))


def graphiql_routes(settings: Settings) -> list[BaseRoute]:
    """The mount serving ``static/`` (our files and the vendor files) under ``/static/graphiql``."""
    if not settings.graphiql:
        return []
    # check_dir=False: the vendor folder may appear later, when `make assets` runs.
    files = _StaticAssets(directory=STATIC_DIR, check_dir=False)
    return [Mount(STATIC_PREFIX, app=files, name=STATIC_ROUTE_NAME)]


class _StaticAssets(StaticFiles):
    """Static files that are never sniffed as another type and never include dotfiles."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        # Keeps the `make assets` stamp and any editor droppings private.
        if any(part.startswith(".") for part in PurePosixPath(path).parts):
            raise HTTPException(status_code=404)
        return await super().get_response(path, scope)

    def file_response(
        self,
        full_path: str | os.PathLike[str],
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response


@cache
def _template() -> Template:
    return Template(TEMPLATE_PATH.read_text(encoding="utf-8"))


def _static_url(request: Request, path: str) -> str:
    # url_for follows wherever the app mounted graphiql_routes (and any root path).
    return request.url_for(STATIC_ROUTE_NAME, path=path).path


def _vendor_url(request: Request, file: VendorFile) -> str:
    # The version in the query makes browsers fetch the new file after an upgrade.
    return f"{_static_url(request, f'vendor/{file.name}')}?v={file.version}"


def _script_tag(src: str, integrity: str | None = None) -> str:
    return f"    <script src={_attr(src)}{_sri(integrity)}></script>"


def _stylesheet_tag(href: str, integrity: str | None = None) -> str:
    return f'    <link rel="stylesheet" href={_attr(href)}{_sri(integrity)}>'


def _sri(integrity: str | None) -> str:
    # crossorigin is needed for the browser to check a cross-origin file's hash at all.
    return f' integrity={_attr(integrity)} crossorigin="anonymous"' if integrity else ""


def _attr(value: str) -> str:
    return f'"{html.escape(value, quote=True)}"'
