"""The benchmark: the CMS's headline read against hand-written baselines, in one run.

    python bench/run.py                       # SQLite, about two and a half minutes
    python bench/run.py --postgres postgres://postgres@127.0.0.1:5432/test

1. Builds W1 (``generate_content(posts=2000, tags=20, authors=10, sections=5, seed=1)``) into a
   temporary SQLite file (or a fresh PostgreSQL database beside the one named).
2. Counts the SQL statements of one headline request in-process, per mode.
3. Copies the rows into the fastest baseline's own schema (``bench/fast_schema.py``).
4. Starts each server in a subprocess (uvicorn, one worker, access log off): the CMS with the
   cache off (compiled reads on, and off when the setting exists), the CMS with the cache on,
   ``bench/fastest.py`` (the reference) and ``bench/baseline.py`` (the CMS's own schema).
5. Loads them in turn, ``--rounds`` times over (so that a noisy minute hurts every mode alike),
   with 16 keep-alive connections for ``--duration`` seconds each, using ``wrk`` when it is
   installed and the bundled asyncio load generator otherwise.
6. Prints req/s, p50/p99 latency, peak RSS (VmHWM), SQL per request, and each figure as a
   ratio to the fastest baseline's req/s.

The load generator shares the machine with the server under test: on two cores each gets one.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

HEADLINE = (
    "query Headline($slug: String!) { tag(slug: $slug) { posts(first: 20) { edges { node { "
    "title slug author { name } tags { name } sections { heading body } } } } } }"
)
W1 = {"posts": 2000, "tags": 20, "authors": 10, "sections": 5, "seed": 1}


@dataclass
class Server:
    name: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    def cpu_seconds(self) -> float:
        """User and system CPU the server process has used (all its threads)."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def peak_rss_mib(self) -> float:
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        match = re.search(r"VmHWM:\s+(\d+) kB", status)
        return int(match.group(1)) / 1024 if match else float("nan")


@dataclass
class Mode:
    name: str
    server: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    sql: int | str = "?"


@dataclass
class Result:
    requests: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    bad: int = 0
    # Every response, warm-up included, and the server's CPU time over the same span: CPU per
    # response hardly moves when other work shares the cores, which req/s does.
    answered: int = 0
    cpu_seconds: float = 0.0

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def cpu_ms(self) -> float:
        return self.cpu_seconds * 1000 / self.answered if self.answered else float("nan")

    def percentile(self, q: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


# --- data ---------------------------------------------------------------------------------


async def build_w1(database_url: str) -> str:
    """Migrate and fill the database; returns the slug of the headline's tag."""
    from tortoise import Tortoise

    from cms.content.generate import generate_content
    from cms.db import apply_migrations
    from cms.models import Tag
    from cms.settings import Settings

    await apply_migrations(Settings(database_url=database_url))
    try:
        await generate_content(
            posts=W1["posts"],
            tags=W1["tags"],
            authors=W1["authors"],
            sections=W1["sections"],
            seed=W1["seed"],
        )
        tag = await Tag.all().order_by("id").first()
        assert tag is not None
        return tag.slug
    finally:
        await Tortoise.close_connections()


async def count_sql(database_url: str, path: str, settings: dict[str, Any]) -> int:
    """Statements one request for ``path`` sends, measured in-process after a warm-up."""
    import httpx
    from tortoise import Tortoise

    from cms.app import create_app
    from cms.db import database
    from cms.observability.sql import install_sql_counter, measure_sql
    from cms.settings import Settings

    config = Settings(database_url=database_url, **settings)
    install_sql_counter()
    async with database(config):
        app = create_app(config, manage_database=False)
        transport = httpx.ASGITransport(app=app)
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=transport, base_url="http://bench") as client,
        ):
            await client.get(path)
            with measure_sql() as stats:
                response = await client.get(path)
            assert response.status_code == 200, response.text
    await Tortoise.close_connections()
    return stats.statements


def same_data(cms_port: int, cms_path: str, base_port: int, base_path: str) -> bool:
    """Whether the CMS and the baseline answer the same data (a guard against a lazy baseline)."""
    cms = json.loads(fetch(cms_port, cms_path))
    base = json.loads(fetch(base_port, base_path))
    return bool(cms["data"] == base["data"])


def fetch(port: int, path: str, headers: dict[str, str] | None = None) -> bytes:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers=headers or {})
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback
        body: bytes = response.read()
        return body


def etag_of(port: int, path: str) -> str:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}")
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback
        return str(response.headers["ETag"])


# --- servers ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def start(name: str, app: str, env: dict[str, str], workdir: Path, *, factory: bool) -> Server:
    port = free_port()
    log = workdir / f"{name}.log"
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        app,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--no-access-log",
        "--log-level",
        "warning",
    ]
    if factory:
        command.append("--factory")
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    server = Server(name=name, port=port, process=process, log=log)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited: see {log}\n{log.read_text()[-2000:]}")
        try:
            fetch(port, "/healthz")
            return server
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{name} did not start within 30 s: see {log}")


# --- load ---------------------------------------------------------------------------------


async def _connection(
    port: int, request: bytes, until: float, result: Result, record_after: float
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=1 << 22)
    try:
        while (now := time.perf_counter()) < until:
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            match = re.search(rb"(?i)\r\ncontent-length:\s*(\d+)", head)
            if match:
                length = int(match.group(1))
            if length:
                await reader.readexactly(length)
            result.answered += 1
            if now >= record_after:
                result.requests += 1
                result.latencies.append(time.perf_counter() - now)
                if head[9:12] not in (b"200", b"304"):
                    result.bad += 1
    finally:
        writer.close()


async def _load(port: int, request: bytes, duration: float, connections: int) -> Result:
    result = Result()
    warm = time.perf_counter() + 1.0
    until = warm + duration
    await asyncio.gather(
        *(_connection(port, request, until, result, warm) for _ in range(connections))
    )
    result.seconds = duration
    return result


def load(port: int, path: str, headers: dict[str, str], duration: float, conns: int) -> Result:
    if shutil.which("wrk"):
        return load_with_wrk(port, path, headers, duration, conns)
    lines = [f"GET {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Accept: application/json"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    request = ("\r\n".join(lines) + "\r\n\r\n").encode()
    try:
        import uvloop

        return uvloop.run(_load(port, request, duration, conns))
    except ImportError:
        return asyncio.run(_load(port, request, duration, conns))


def load_with_wrk(
    port: int, path: str, headers: dict[str, str], duration: float, conns: int
) -> Result:
    command = ["wrk", "-t1", f"-c{conns}", f"-d{int(duration)}s", "--latency"]
    for name, value in {"Accept": "application/json", **headers}.items():
        command += ["-H", f"{name}: {value}"]
    output = subprocess.run(
        [*command, f"http://127.0.0.1:{port}{path}"], capture_output=True, text=True, check=True
    ).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]

    def ms(label: str) -> float:
        match = re.search(rf"{label}%\s+([\d.]+)(us|ms|s)", output)
        if not match:
            return float("nan")
        scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[match.group(2)]
        return float(match.group(1)) * scale

    result = Result(requests=int(rate * duration), seconds=duration, answered=int(rate * duration))
    # wrk reports percentiles, not samples: keep the two that the table shows.
    result.latencies = [ms("50") / 1000, ms("99") / 1000]
    result.percentile = lambda q: ms("50") if q < 0.9 else ms("99")  # type: ignore[method-assign]
    return result


# --- the run ------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", metavar="URL", help="run on PostgreSQL instead of SQLite")
    parser.add_argument("--duration", type=float, default=8.0, help="seconds per measurement")
    parser.add_argument("--rounds", type=int, default=2, help="times each mode is measured")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--markdown", action="store_true", help="print the table as markdown")
    parser.add_argument(
        "--other-form",
        action="store_true",
        help="also measure the fastest baseline's slower form on this engine (bench/fastest.py)",
    )
    parser.add_argument(
        "--only",
        metavar="MODES",
        help="measure only these comma-separated modes beside the fastest baseline "
        "(e.g. fastest-other), for more rounds in the same time",
    )
    args = parser.parse_args(argv)

    workdir = Path(tempfile.mkdtemp(prefix="cms-bench-"))
    admin_url = None
    if args.postgres:
        database_url, admin_url = asyncio.run(_fresh_postgres(args.postgres))
    else:
        database_url = f"sqlite://{workdir / 'w1.sqlite3'}"
    print(f"building W1 in {database_url} ...", flush=True)
    built = time.perf_counter()
    slug = asyncio.run(build_w1(database_url))
    print(f"  built in {time.perf_counter() - built:.1f} s; headline tag: {slug}", flush=True)

    from cms.settings import Settings

    has_compiled = "compiled_reads" in Settings.model_fields
    cms_path = "/graphql?" + urllib.parse.urlencode(
        {"query": HEADLINE, "variables": json.dumps({"slug": slug})}
    )
    base_path = "/headline?" + urllib.parse.urlencode({"tag": slug})
    quiet = {
        "CMS_DATABASE_URL": database_url,
        "CMS_LOG_LEVEL": "warning",
        "CMS_SCHEDULER_INTERVAL_SECONDS": "0",
        "CMS_RATE_LIMIT_REQUESTS": "0",
        "CMS_RATE_LIMIT_COST": "0",
        "CMS_GRAPHIQL": "false",
        "CMS_REDIS_URL": "",
    }
    variants: dict[str, dict[str, str]] = {"cms-uncached": {"CMS_CACHE": "off"}}
    if has_compiled:
        variants["cms-uncached-standard"] = {"CMS_CACHE": "off", "CMS_COMPILED_READS": "off"}
    variants["cms-cached"] = {"CMS_CACHE": "on"}

    print("counting SQL per request ...", flush=True)
    sql: dict[str, int | str] = {}
    for name, env in variants.items():
        settings: dict[str, Any] = {"cache": env["CMS_CACHE"] == "on", "graphiql": False}
        if env.get("CMS_COMPILED_READS") == "off":
            settings["compiled_reads"] = False
        sql[name] = asyncio.run(count_sql(database_url, cms_path, settings))

    print("copying W1 into the fastest baseline's schema ...", flush=True)
    fast_url = prepare_fast(database_url, workdir)
    # Each engine's faster form is the reference (bench/fastest.py); --other-form adds the other.
    form, other = ("json", "rows") if database_url.startswith("sqlite://") else ("rows", "json")
    references = {"fastest": {"BENCH_FAST_URL": fast_url}}
    if args.other_form:
        references["fastest-other"] = {"BENCH_FAST_URL": fast_url, "BENCH_FAST_FORM": other}
    label = {"rows": "3 SQL + orjson", "json": "1 SQL, JSON by the database"}
    statements = {"rows": 3, "json": 1}

    servers: dict[str, Server] = {}
    try:
        for name, env in references.items():
            servers[name] = start(name, "bench.fastest:app", env, workdir, factory=False)
        servers["baseline"] = start(
            "baseline",
            "bench.baseline:app",
            {"BENCH_DATABASE_URL": database_url},
            workdir,
            factory=False,
        )
        for name, env in variants.items():
            servers[name] = start(
                name, "cms.app:create_app", {**quiet, **env}, workdir, factory=True
            )

        cms = servers["cms-cached"]
        for name in ("baseline", *references):
            assert same_data(cms.port, cms_path, servers[name].port, base_path), (
                f"the CMS and {name} disagree on the headline data"
            )
        etag = etag_of(cms.port, cms_path)
        modes = [
            Mode(f"fastest ({label[form]})", "fastest", base_path, sql=statements[form]),
            *(
                [
                    Mode(
                        f"fastest-other ({label[other]})",
                        "fastest-other",
                        base_path,
                        sql=statements[other],
                    )
                ]
                if args.other_form
                else []
            ),
            Mode("baseline (3 SQL, CMS schema)", "baseline", base_path, sql=3),
            *(Mode(name, name, cms_path, sql=sql[name]) for name in variants),
            Mode("cms-304", "cms-cached", cms_path, {"If-None-Match": etag}, sql=0),
        ]
        if args.only:
            # The fastest baseline stays: every ratio is to it.
            keep = {"fastest", *args.only.split(",")}
            modes = [mode for mode in modes if mode.server in keep or mode.name in keep]
        totals = {mode.name: Result() for mode in modes}
        for round_ in range(1, args.rounds + 1):
            for mode in modes:
                port = servers[mode.server].port
                cpu = servers[mode.server].cpu_seconds()
                measured = load(port, mode.path, mode.headers, args.duration, args.connections)
                measured.cpu_seconds = servers[mode.server].cpu_seconds() - cpu
                total = totals[mode.name]
                total.answered += measured.answered
                total.cpu_seconds += measured.cpu_seconds
                total.requests += measured.requests
                total.seconds += measured.seconds
                total.latencies += measured.latencies
                total.bad += measured.bad
                print(
                    f"  round {round_} {mode.name:<30} {measured.rate:8.1f} req/s"
                    f"  (load average {os.getloadavg()[0]:.1f})",
                    flush=True,
                )
        report(modes, totals, servers, args, database_url)
    finally:
        for server in servers.values():
            server.process.terminate()
        for server in servers.values():
            server.process.wait(timeout=10)
        if admin_url is not None:
            asyncio.run(_drop_postgres(admin_url, database_url))
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def report(
    modes: list[Mode],
    totals: dict[str, Result],
    servers: dict[str, Server],
    args: argparse.Namespace,
    database_url: str,
) -> None:
    base = totals[modes[0].name].rate
    base_cpu = totals[modes[0].name].cpu_ms
    header = ["mode", "req/s", "p50 ms", "p99 ms", "peak RSS MiB", "SQL/req", "x fastest"]
    header += ["CPU ms/req", "x fastest by CPU"]
    rows = []
    for mode in modes:
        result = totals[mode.name]
        rows.append(
            [
                mode.name,
                f"{result.rate:.0f}",
                f"{result.percentile(0.5):.2f}",
                f"{result.percentile(0.99):.2f}",
                f"{servers[mode.server].peak_rss_mib():.0f}",
                str(mode.sql),
                "1.00" if mode is modes[0] else f"{result.rate / base:.2f}",
                f"{result.cpu_ms:.2f}",
                "1.00" if mode is modes[0] else f"{base_cpu / result.cpu_ms:.2f}",
            ]
        )
        if result.bad:
            rows[-1][0] += f" ({result.bad} bad answers)"
    engine = "PostgreSQL" if database_url.startswith("postgres") else "SQLite"
    print()
    print(
        f"W1 headline, {engine}, 1 worker, {args.connections} connections, "
        f"{args.rounds} x {args.duration:.0f} s per mode, load by "
        f"{'wrk' if shutil.which('wrk') else 'the bundled asyncio generator'}"
    )
    print(f"machine: {machine()}; load average {os.getloadavg()[0]:.1f} at the end")
    if engine == "PostgreSQL":
        print("CPU ms/req counts the server process only, not the PostgreSQL backends' work")
    if args.markdown:
        print("| " + " | ".join(header) + " |")
        print("|" + "---|" * len(header))
        for row in rows:
            print("| " + " | ".join(row) + " |")
    else:
        widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
        for row in [header, *rows]:
            print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    sqlite = __import__("sqlite3").sqlite_version
    return (
        f"{os.cpu_count()} cores, {cpu}; Python {platform.python_version()}, "
        f"SQLite {sqlite}, {platform.system()} {platform.release()}"
    )


def prepare_fast(database_url: str, workdir: Path) -> str:
    """Copy the CMS's rows into the fastest baseline's schema; returns the URL it reads."""
    from bench.fast_schema import copy_postgres, copy_sqlite

    if database_url.startswith("sqlite://"):
        fast_file = workdir / "fast.sqlite3"
        copy_sqlite(Path(database_url.removeprefix("sqlite://")), fast_file)
        return f"sqlite://{fast_file}"
    asyncio.run(copy_postgres(database_url))
    return database_url


async def _fresh_postgres(url: str) -> tuple[str, str]:
    import asyncpg  # type: ignore[import-untyped]

    server = urllib.parse.urlsplit(url)
    name = f"cms_bench_{os.getpid()}"
    admin = await asyncpg.connect(url)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    return urllib.parse.urlunsplit(server._replace(path=f"/{name}")), url


async def _drop_postgres(admin_url: str, database_url: str) -> None:
    import asyncpg

    name = urllib.parse.urlsplit(database_url).path.lstrip("/")
    admin = await asyncpg.connect(admin_url)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


if __name__ == "__main__":
    main()
