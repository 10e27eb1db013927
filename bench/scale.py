"""W3: the CMS's list reads at a million posts, each timed by the server.

    python bench/scale.py                         # SQLite, 1,000,000 posts (a long first build)
    python bench/scale.py --posts 100000          # a tenth of W3, quicker
    python bench/scale.py --posts 100000,500000   # two sizes, measured alternately
    python bench/scale.py --postgres postgres://postgres@127.0.0.1:5432/postgres

1. Builds W3 (``generate_content(posts=1_000_000, tags=1000, authors=500, sections=2)``, or
   ``--posts`` of it) once, and keeps it (``bench/data.py``): later runs reuse the build.
2. Copies each build into the W3 baseline's own schema (``w3_schema.py``) and starts, per
   size, the CMS (uvicorn, one worker, cache off, ``CMS_DEBUG_TIMING=true``) and the baseline
   (``w3_fastest.py``: the fastest hand-written server we could write for these reads).
3. Sends each list read once to both and checks that they answer the same data, then
   ``--repeat`` times, CMS and baseline and sizes taking turns, reading each server's own time
   from ``Server-Timing: total;dur=`` (the whole request inside the app, HTTP parsing aside);
   every read stops early once it has spent ``--budget`` seconds.
4. Prints, per read and size, the CMS's median and maximum and its SQL statements, the
   baseline's median, and the ratio of the two (the CMS's speed as a fraction of the
   baseline's), and each CMS worker's peak RSS (VmHWM) over the whole run.

``CMS_DEBUG_TIMING`` costs about 40% of throughput on a 5 ms request, mostly outside the span
it times, so these figures are for comparing sizes and engines, not for req/s.
"""

from __future__ import annotations

import argparse
import asyncio
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
from bench.w3_schema import copy_postgres, copy_sqlite  # noqa: E402

POST_FIELDS = "edges { cursor node { title slug } }"
# The list reads of issue 13 by the name the W3 baseline knows them by (bench/w3_fastest.py):
# a label, and the document, whose variables are filled in from the data.
READS: dict[str, tuple[str, str]] = {
    "tag_page": (
        "tag page with postCount and totalCount",
        "query ($tag: String!) { tag(slug: $tag) { name postCount "
        f"posts(first: 20) {{ totalCount {POST_FIELDS} }} }} }}",
    ),
    "newest": (
        "site newest 20 with totalCount",
        f"{{ posts(first: 20) {{ totalCount {POST_FIELDS} }} }}",
    ),
    "page6": (
        "page 6 through cursors",
        f"query ($after: String!) {{ posts(first: 20, after: $after) {{ {POST_FIELDS} }} }}",
    ),
    "title": (
        "posts(first: 20, orderBy: TITLE_ASC)",
        f"{{ posts(first: 20, orderBy: TITLE_ASC) {{ {POST_FIELDS} }} }}",
    ),
    "author_page": (
        "author page with totalCount",
        "query ($author: String!) { author(slug: $author) { name "
        f"posts(first: 20) {{ totalCount {POST_FIELDS} }} }} }}",
    ),
    "tags": (
        "tags(first: 100) { postCount }",
        "{ tags(first: 100) { edges { node { name postCount } } } }",
    ),
    "authors": (
        "authors(first: 20) { posts(first: 5) { totalCount } }",
        "{ authors(first: 20) { edges { node { name "
        "posts(first: 5) { totalCount edges { node { title } } } } } } }",
    ),
}
CURSOR_WALK = (
    "query ($after: String) { posts(first: 20, after: $after) { pageInfo { endCursor } } }"
)


@dataclass
class Timing:
    """One read at one size: the server-side milliseconds of the CMS and of the W3 baseline."""

    server_ms: list[float] = field(default_factory=list)
    baseline_ms: list[float] = field(default_factory=list)
    sql: int = 0

    def ratio(self) -> float:
        """How fast the CMS is as a fraction of the baseline (0.5x: it takes twice as long)."""
        return statistics.median(self.baseline_ms) / statistics.median(self.server_ms)

    def cell(self) -> str:
        if not self.server_ms:
            return "-"
        cms = statistics.median(self.server_ms)
        return (
            f"{cms:,.1f} / {max(self.server_ms):,.1f} ({self.sql}); "
            f"baseline {statistics.median(self.baseline_ms):,.2f}; {self.ratio():.2f}x"
        )


@dataclass
class Size:
    """One W3 size: the CMS and the baseline serving it, and each read's variables."""

    cms: Server
    baseline: Server
    variables: dict[str, dict[str, Any]]


def get(url: str) -> tuple[dict[str, Any], str]:
    """The JSON body and the Server-Timing header of one GET over loopback."""
    request = urllib.request.Request(url, headers={"Accept": "application/json"})  # noqa: S310
    with urllib.request.urlopen(request, timeout=600) as response:  # noqa: S310 - loopback
        body: dict[str, Any] = json.loads(response.read())
        timing = str(response.headers.get("Server-Timing", ""))
    if body.get("errors"):
        raise RuntimeError(f"{url} answered errors: {body['errors']}")
    return body, timing


def ask(port: int, query: str, variables: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """The CMS's response to one GraphQL GET, and its Server-Timing header."""
    query_string = urllib.parse.urlencode({"query": query, "variables": json.dumps(variables)})
    return get(f"http://127.0.0.1:{port}/graphql?{query_string}")


def ask_baseline(port: int, read: str, variables: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """The W3 baseline's response to one read, and its Server-Timing header."""
    query_string = urllib.parse.urlencode({"read": read, "variables": json.dumps(variables)})
    return get(f"http://127.0.0.1:{port}/w3?{query_string}")


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
    return {"tag_page": {"tag": tag}, "page6": {"after": after}, "author_page": {"author": author}}


def server_ms(header: str) -> float:
    total = re.search(r"total;dur=([\d.]+)", header)
    if total is None:
        raise RuntimeError(f"no Server-Timing total in {header!r}: is debug timing on?")
    return float(total.group(1))


def time_read(sizes: dict[int, Size], read: str, repeat: int, budget: float) -> dict[int, Timing]:
    """``read`` at every size, the CMS and the baseline and the sizes taking turns (noise hits
    all), after checking that both answer the same data."""
    timings = {posts: Timing() for posts in sizes}
    _, document = READS[read]
    for posts, size in sizes.items():
        variables = size.variables.get(read, {})
        # The warm-up (caches, pages) doubles as the check that the comparison is fair.
        cms, _ = ask(size.cms.port, document, variables)
        baseline, _ = ask_baseline(size.baseline.port, read, variables)
        if cms["data"] != baseline["data"]:
            raise RuntimeError(f"{read} at {posts:,}: the CMS and the baseline disagree")
    deadline = time.monotonic() + budget
    for _ in range(repeat):
        for posts, size in sizes.items():
            variables = size.variables.get(read, {})
            _, header = ask(size.cms.port, document, variables)
            statements = re.search(r'sql;desc="(\d+) statements"', header)
            timings[posts].server_ms.append(server_ms(header))
            timings[posts].sql = int(statements.group(1)) if statements else 0
            _, header = ask_baseline(size.baseline.port, read, variables)
            timings[posts].baseline_ms.append(server_ms(header))
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

    urls: dict[int, str] = {}
    for posts in (int(posts) for posts in args.posts.split(",")):
        workload = replace(W3, posts=posts)
        if args.postgres:
            urls[posts] = postgres_build(args.postgres, workload, rebuild=args.rebuild)
        else:
            urls[posts] = sqlite_build(workload, rebuild=args.rebuild)
    workdir = Path(tempfile.mkdtemp(prefix="cms-scale-"))
    sizes: dict[int, Size] = {}
    try:
        for posts, url in urls.items():
            cms = start(
                f"cms-w3-{posts}", "cms.app:create_app", cms_env(url), workdir, factory=True
            )
            baseline_env = {"BENCH_W3_URL": prepare_baseline(url, workdir / f"w3-fast-{posts}")}
            baseline = start(
                f"w3-fast-{posts}", "bench.w3_fastest:app", baseline_env, workdir, factory=False
            )
            sizes[posts] = Size(cms, baseline, variables_for(cms.port))
        results: dict[str, dict[int, Timing]] = {}
        loads: dict[str, float] = {}
        for read, (label, _) in READS.items():
            results[read] = time_read(sizes, read, args.repeat, args.budget)
            # The 1-minute load average as the read ends: the machine may be shared.
            loads[read] = os.getloadavg()[0]
            cells = "  ".join(f"{posts}: {t.cell()}" for posts, t in results[read].items())
            print(f"  {label:<55} {cells}  (load average {loads[read]:.1f})", flush=True)
        engine = "PostgreSQL" if args.postgres else "SQLite"
        report(results, loads, sizes, engine, args.markdown)
    finally:
        for size in sizes.values():
            for server in (size.cms, size.baseline):
                server.process.terminate()
                server.process.wait(timeout=10)
        shutil.rmtree(workdir, ignore_errors=True)


def prepare_baseline(database_url: str, fast_file: Path) -> str:
    """Copy a W3 build's rows into the baseline's schema; returns the URL the baseline reads."""
    if database_url.startswith("sqlite://"):
        copy_sqlite(Path(database_url.removeprefix("sqlite://")), fast_file)
        return f"sqlite://{fast_file}"
    asyncio.run(copy_postgres(database_url))
    return database_url


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
    sizes: dict[int, Size],
    engine: str,
    markdown: bool,
) -> None:
    print()
    print(
        f"W3 list reads, {engine}, 1,000 tags, 500 authors; server-side ms (Server-Timing "
        "total): the CMS's median / max (SQL statements), the W3 baseline's median "
        "(bench/w3_fastest.py), and the CMS's speed as a fraction of the baseline's; "
        "cache off, 1 worker each"
    )
    print(f"machine: {machine()}; load average {os.getloadavg()[0]:.1f} at the end")
    header = ["read", *(f"{posts:,} posts" for posts in sizes), "load"]
    rows = [
        [READS[read][0], *(timing.cell() for timing in by_size.values()), f"{loads[read]:.1f}"]
        for read, by_size in results.items()
    ]
    rss = [f"{size.cms.peak_rss_mib():.0f} MiB" for size in sizes.values()]
    rows.append(["CMS worker peak RSS", *rss, ""])
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
