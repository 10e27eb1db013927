"""W3: the CMS's list reads at a million posts, each timed by the server.

    python bench/scale.py                         # SQLite, 1,000,000 posts (a long first build)
    python bench/scale.py --posts 100000          # a tenth of W3, quicker
    python bench/scale.py --postgres postgres://postgres@127.0.0.1:5432/postgres

1. Builds W3 (``generate_content(posts=1_000_000, tags=1000, authors=500, sections=2)``, or
   ``--posts`` of it) once, and keeps it (``bench/data.py``): later runs reuse the build.
2. Starts the CMS in a subprocess (uvicorn, one worker, cache off, ``CMS_DEBUG_TIMING=true``).
3. Sends each list read once to warm up, then ``--repeat`` times, and reads the server's own
   time from ``Server-Timing: total;dur=`` (the whole request inside the app, HTTP parsing
   aside); every query stops early once it has spent ``--budget`` seconds.
4. Prints the median and the maximum per read, the SQL statements it sent, and the worker's
   peak RSS (VmHWM) over the whole run.

``CMS_DEBUG_TIMING`` costs about 40% of throughput on a 5 ms request, mostly outside the span
it times, so these figures are for comparing sizes and engines, not for req/s.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, replace
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
    read: str
    server_ms: list[float]
    sql: int
    # The 1-minute load average when the read was timed: the machine is shared.
    load: float

    def row(self) -> list[str]:
        ordered = self.server_ms
        return [
            self.read,
            f"{statistics.median(ordered):.1f}",
            f"{max(ordered):.1f}",
            str(len(ordered)),
            str(self.sql),
            f"{self.load:.1f}",
        ]


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
    port: int, read: str, variables: dict[str, Any], repeat: int, budget: float
) -> Timing:
    ask(port, READS[read], variables)  # warm-up: statement caches, page cache
    server_ms: list[float] = []
    sql = 0
    deadline = time.monotonic() + budget
    for _ in range(repeat):
        _, header = ask(port, READS[read], variables)
        total = re.search(r"total;dur=([\d.]+)", header)
        statements = re.search(r'sql;desc="(\d+) statements"', header)
        if total is None or statements is None:
            raise RuntimeError(f"no Server-Timing figures in {header!r}: is CMS_DEBUG_TIMING on?")
        server_ms.append(float(total.group(1)))
        sql = int(statements.group(1))
        if time.monotonic() > deadline:
            break
    return Timing(read, server_ms, sql, os.getloadavg()[0])


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", metavar="URL", help="an existing database on the server")
    parser.add_argument("--posts", type=int, default=W3.posts, help="scale W3 down (or up)")
    parser.add_argument("--repeat", type=int, default=5, help="timed requests per read")
    parser.add_argument("--budget", type=float, default=60.0, help="seconds per read, at most")
    parser.add_argument("--rebuild", action="store_true", help="build afresh, ignoring a kept one")
    parser.add_argument("--markdown", action="store_true", help="print the table as markdown")
    args = parser.parse_args(argv)

    workload = replace(W3, posts=args.posts)
    if args.postgres:
        database_url = postgres_build(args.postgres, workload, rebuild=args.rebuild)
    else:
        database_url = sqlite_build(workload, rebuild=args.rebuild)
    env = {
        "CMS_DATABASE_URL": database_url,
        "CMS_LOG_LEVEL": "warning",
        "CMS_SCHEDULER_INTERVAL_SECONDS": "0",
        "CMS_RATE_LIMIT_REQUESTS": "0",
        "CMS_RATE_LIMIT_COST": "0",
        "CMS_GRAPHIQL": "false",
        "CMS_REDIS_URL": "",
        "CMS_CACHE": "off",
        "CMS_DEBUG_TIMING": "true",
        # The default 10 s budget cancels the slowest reads at this size: they are what we
        # measure. ``--budget`` bounds the run instead.
        "CMS_OPERATION_TIMEOUT": "300",
    }
    workdir = Path(tempfile.mkdtemp(prefix="cms-scale-"))
    server: Server = start("cms-w3", "cms.app:create_app", env, workdir, factory=True)
    try:
        variables = variables_for(server.port)
        timings = []
        for read in READS:
            timing = time_read(server.port, read, variables.get(read, {}), args.repeat, args.budget)
            timings.append(timing)
            print(f"  {read:<55} median {statistics.median(timing.server_ms):8.1f} ms", flush=True)
        report(timings, server, workload.posts, database_url, args.markdown)
    finally:
        server.process.terminate()
        server.process.wait(timeout=10)


def report(
    timings: list[Timing], server: Server, posts: int, database_url: str, markdown: bool
) -> None:
    engine = "PostgreSQL" if database_url.startswith("postgres") else "SQLite"
    print()
    print(
        f"W3 list reads, {engine}, {posts:,} posts, 1,000 tags, 500 authors; server-side ms "
        f"(Server-Timing total), cache off, 1 worker; peak RSS {server.peak_rss_mib():.0f} MiB"
    )
    print(f"machine: {machine()}; load average {os.getloadavg()[0]:.1f} at the end")
    header = ["read", "median ms", "max ms", "n", "SQL", "load"]
    rows = [timing.row() for timing in timings]
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
