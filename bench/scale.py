"""W3: the CMS's list reads at a million posts, each timed by the server.

    python bench/scale.py                         # SQLite, 1,000,000 posts (a long first build)
    python bench/scale.py --posts 100000          # a tenth of W3, quicker
    python bench/scale.py --posts 100000,500000   # two sizes, measured alternately
    python bench/scale.py --postgres postgres://postgres@127.0.0.1:5432/postgres

1. Builds W3 (``generate_content(posts=1_000_000, tags=1000, authors=500, sections=2)``, or
   ``--posts`` of it) once, and keeps it (``bench/data.py``): later runs reuse the build.
2. Starts the CMS in a subprocess per size (uvicorn, one worker, cache off,
   ``CMS_DEBUG_TIMING=true``).
3. Sends each list read once to warm up, then ``--repeat`` times, the sizes taking turns, and
   reads the server's own time from ``Server-Timing: total;dur=`` (the whole request inside the
   app, HTTP parsing aside); every read stops early once it has spent ``--budget`` seconds.
4. Prints the median and the maximum per read and size, the SQL statements it sent, and each
   worker's peak RSS (VmHWM) over the whole run.

``CMS_DEBUG_TIMING`` costs about 40% of throughput on a 5 ms request, mostly outside the span
it times, so these figures are for comparing sizes and engines, not for req/s.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.data import W3, postgres_build, sqlite_build  # noqa: E402
from bench.run import Server, machine, start  # noqa: E402

POST_FIELDS = "edges { cursor node { title slug } }"
# The list reads of issue 13, each with the variables it needs (filled in from the data).
READS: dict[str, str] = {
    "tag page with postCount and totalCount": (
        "query ($tag: String!) { tag(slug: $tag) { name postCount "
        f"posts(first: 20) {{ totalCount {POST_FIELDS} }} }} }}"
    ),
    "site newest 20 with totalCount": f"{{ posts(first: 20) {{ totalCount {POST_FIELDS} }} }}",
    "page 6 through cursors": (
        f"query ($after: String!) {{ posts(first: 20, after: $after) {{ {POST_FIELDS} }} }}"
    ),
    "posts(first: 20, orderBy: TITLE_ASC)": (
        f"{{ posts(first: 20, orderBy: TITLE_ASC) {{ {POST_FIELDS} }} }}"
    ),
    "author page with totalCount": (
        "query ($author: String!) { author(slug: $author) { name "
        f"posts(first: 20) {{ totalCount {POST_FIELDS} }} }} }}"
    ),
    "tags(first: 100) { postCount }": "{ tags(first: 100) { edges { node { name postCount } } } }",
    "authors(first: 20) { posts(first: 5) { totalCount } }": (
        "{ authors(first: 20) { edges { node { name "
        "posts(first: 5) { totalCount edges { node { title } } } } } } }"
    ),
}
CURSOR_WALK = (
    "query ($after: String) { posts(first: 20, after: $after) { pageInfo { endCursor } } }"
)


@dataclass
class Timing:
    """One read at one size: the server's milliseconds per request, and its SQL count."""

    server_ms: list[float] = field(default_factory=list)
    sql: int = 0

    def cell(self) -> str:
        if not self.server_ms:
            return "-"
        return f"{statistics.median(self.server_ms):,.1f} / {max(self.server_ms):,.1f} ({self.sql})"


def ask(port: int, query: str, variables: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """The response body and its Server-Timing header, for one GET over loopback."""
    path = "/graphql?" + urllib.parse.urlencode(
        {"query": query, "variables": json.dumps(variables)}
    )
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}", headers={"Accept": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=600) as response:  # noqa: S310 - loopback
        body: dict[str, Any] = json.loads(response.read())
        timing = str(response.headers.get("Server-Timing", ""))
    if body.get("errors"):
        raise RuntimeError(f"the CMS answered errors: {body['errors']}")
    return body, timing


def variables_for(port: int) -> dict[str, dict[str, Any]]:
    """Each read's variables: the first tag and author by name, the cursor that ends page 5."""
    tags, _ = ask(port, "{ tags(first: 1) { edges { node { slug } } } }", {})
    authors, _ = ask(port, "{ authors(first: 1) { edges { node { slug } } } }", {})
    after: str | None = None
    for _ in range(5):
        page, _ = ask(port, CURSOR_WALK, {"after": after})
        after = page["data"]["posts"]["pageInfo"]["endCursor"]
    tag = tags["data"]["tags"]["edges"][0]["node"]["slug"]
    author = authors["data"]["authors"]["edges"][0]["node"]["slug"]
    return {
        "tag page with postCount and totalCount": {"tag": tag},
        "page 6 through cursors": {"after": after},
        "author page with totalCount": {"author": author},
    }


def time_read(
    servers: dict[int, tuple[Server, dict[str, Any]]], read: str, repeat: int, budget: float
) -> dict[int, Timing]:
    """``read`` at every size, sizes alternating within each repetition (noise hits all)."""
    timings = {posts: Timing() for posts in servers}
    for server, variables in servers.values():
        ask(server.port, READS[read], variables.get(read, {}))  # warm-up: caches, pages
    deadline = time.monotonic() + budget
    for _ in range(repeat):
        for posts, (server, variables) in servers.items():
            _, header = ask(server.port, READS[read], variables.get(read, {}))
            total = re.search(r"total;dur=([\d.]+)", header)
            statements = re.search(r'sql;desc="(\d+) statements"', header)
            if total is None or statements is None:
                raise RuntimeError(f"no Server-Timing figures in {header!r}: is debug timing on?")
            timings[posts].server_ms.append(float(total.group(1)))
            timings[posts].sql = int(statements.group(1))
        if time.monotonic() > deadline:
            break
    return timings


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", metavar="URL", help="an existing database on the server")
    parser.add_argument(
        "--posts",
        default=str(W3.posts),
        help="W3's size, or several comma-separated (100000,500000), measured alternately",
    )
    parser.add_argument("--repeat", type=int, default=5, help="timed requests per read")
    parser.add_argument("--budget", type=float, default=60.0, help="seconds per read, at most")
    parser.add_argument("--rebuild", action="store_true", help="build afresh, ignoring a kept one")
    parser.add_argument("--markdown", action="store_true", help="print the table as markdown")
    args = parser.parse_args(argv)

    sizes = [int(posts) for posts in args.posts.split(",")]
    urls: dict[int, str] = {}
    for posts in sizes:
        workload = replace(W3, posts=posts)
        if args.postgres:
            urls[posts] = postgres_build(args.postgres, workload, rebuild=args.rebuild)
        else:
            urls[posts] = sqlite_build(workload, rebuild=args.rebuild)
    workdir = Path(tempfile.mkdtemp(prefix="cms-scale-"))
    servers: dict[int, tuple[Server, dict[str, Any]]] = {}
    try:
        for posts, url in urls.items():
            server = start(
                f"cms-w3-{posts}", "cms.app:create_app", cms_env(url), workdir, factory=True
            )
            servers[posts] = (server, variables_for(server.port))
        results: dict[str, dict[int, Timing]] = {}
        loads: dict[str, float] = {}
        for read in READS:
            results[read] = time_read(servers, read, args.repeat, args.budget)
            # The 1-minute load average as the read ends: the machine may be shared.
            loads[read] = os.getloadavg()[0]
            cells = "  ".join(f"{posts}: {t.cell()}" for posts, t in results[read].items())
            print(f"  {read:<55} {cells}  (load average {os.getloadavg()[0]:.1f})", flush=True)
        engine = "PostgreSQL" if args.postgres else "SQLite"
        report(results, loads, servers, engine, args.markdown)
    finally:
        for server, _ in servers.values():
            server.process.terminate()
        for server, _ in servers.values():
            server.process.wait(timeout=10)
        shutil.rmtree(workdir, ignore_errors=True)


def cms_env(database_url: str) -> dict[str, str]:
    return {
        "CMS_DATABASE_URL": database_url,
        "CMS_LOG_LEVEL": "warning",
        "CMS_SCHEDULER_INTERVAL_SECONDS": "0",
        "CMS_RATE_LIMIT_REQUESTS": "0",
        "CMS_RATE_LIMIT_COST": "0",
        "CMS_GRAPHIQL": "false",
        "CMS_CACHE": "off",
        "CMS_DEBUG_TIMING": "true",
        # The default 10 s budget cancels the slowest reads at this size: they are what we
        # measure. ``--budget`` bounds the run instead.
        "CMS_OPERATION_TIMEOUT": "300",
    }


def report(
    results: dict[str, dict[int, Timing]],
    loads: dict[str, float],
    servers: dict[int, tuple[Server, dict[str, Any]]],
    engine: str,
    markdown: bool,
) -> None:
    print()
    print(
        f"W3 list reads, {engine}, 1,000 tags, 500 authors; server-side ms (Server-Timing "
        "total), median / max (SQL statements), cache off, 1 worker per size"
    )
    print(f"machine: {machine()}; load average {os.getloadavg()[0]:.1f} at the end")
    header = ["read", *(f"{posts:,} posts" for posts in servers), "load"]
    rows = [
        [read, *(timing.cell() for timing in by_size.values()), f"{loads[read]:.1f}"]
        for read, by_size in results.items()
    ]
    rss = [f"{server.peak_rss_mib():.0f} MiB" for server, _ in servers.values()]
    rows.append(["worker peak RSS", *rss, ""])
    if markdown:
        print("| " + " | ".join(header) + " |")
        print("|" + "---|" * len(header))
        for row in rows:
            print("| " + " | ".join(row) + " |")
        return
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))


if __name__ == "__main__":
    main()
