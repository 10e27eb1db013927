"""Generated benchmark databases, built once and kept, keyed by what made them.

A W3 build (a million posts) takes far longer than any measurement of it, so each build is kept
and reused until the generator changes. The key hashes the generator's parameters with the
generator's source. A schema change does not make a build stale: every use applies the
migrations the build does not have yet, exactly as an upgraded site would (``--rebuild`` starts
afresh, for the rare edit of a migration that already ran).

- SQLite: ``bench/.data/<name>-<key>.sqlite3`` (git-ignored), written as ``.partial`` and renamed
  when complete, so an interrupted build is never mistaken for a finished one.
- PostgreSQL: a database ``cms_bench_<name>_<key>`` beside the one named, built under a
  ``_partial`` name and renamed when complete, for the same reason.
"""

from __future__ import annotations

import asyncio
import hashlib
import sys
import time
import urllib.parse
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).resolve().parent / ".data"
# The sources whose change makes a kept build stale (new migrations are applied on use instead).
SOURCES = ("cms/content/generate.py",)


@dataclass(frozen=True)
class Workload:
    """The parameters of one ``generate_content`` call."""

    name: str
    posts: int
    tags: int
    authors: int
    sections: int
    seed: int = 1

    def key(self) -> str:
        digest = hashlib.sha256(repr(sorted(asdict(self).items())).encode())
        for source in SOURCES:
            path = ROOT / source
            for file in sorted(path.rglob("*.py")) if path.is_dir() else [path]:
                digest.update(file.relative_to(ROOT).as_posix().encode())
                digest.update(file.read_bytes())
        return digest.hexdigest()[:12]


W1 = Workload("w1", posts=2000, tags=20, authors=10, sections=5)
# Sections are not read by the list reads W3 measures; two per post keep a million posts
# within reach of one build (the search index grows with every section).
W3 = Workload("w3", posts=1_000_000, tags=1000, authors=500, sections=2)


def migrate(database_url: str) -> None:
    """Apply the migrations a kept build does not have yet."""
    asyncio.run(_migrate(database_url))


async def _migrate(database_url: str) -> None:
    from tortoise import Tortoise

    from cms.db import apply_migrations
    from cms.settings import Settings

    try:
        await apply_migrations(Settings(database_url=database_url))
    finally:
        await Tortoise.close_connections()


async def generate(database_url: str, workload: Workload) -> None:
    """Migrate ``database_url`` and fill it with ``workload``, printing progress."""
    from tortoise import Tortoise

    from cms.content.generate import generate_content
    from cms.db import apply_migrations
    from cms.settings import Settings

    started = time.perf_counter()
    last = [started]

    def progress(done: int, total: int) -> None:
        # One line every 20 s at most: a long build should show it is alive, not flood the log.
        now = time.perf_counter()
        if now - last[0] >= 20 or done == total:
            last[0] = now
            rate = done / (now - started)
            print(f"  {done}/{total} posts, {rate:.0f} posts/s", file=sys.stderr, flush=True)

    await apply_migrations(Settings(database_url=database_url))
    try:
        await generate_content(
            posts=workload.posts,
            tags=workload.tags,
            authors=workload.authors,
            sections=workload.sections,
            seed=workload.seed,
            progress=progress,
        )
    finally:
        await Tortoise.close_connections()


def sqlite_build(workload: Workload, *, rebuild: bool = False) -> str:
    """The URL of a kept SQLite build of ``workload``, building it first if needed."""
    DATA.mkdir(exist_ok=True)
    final = DATA / f"{workload.name}-{workload.posts}-{workload.key()}.sqlite3"
    if final.exists() and not rebuild:
        migrate(f"sqlite://{final}")
        return f"sqlite://{final}"
    partial = final.with_suffix(".partial")
    # An interrupted build leaves its write-ahead log beside it: clear that too.
    for stale in (partial, final):
        for suffix in ("", "-wal", "-shm"):
            Path(f"{stale}{suffix}").unlink(missing_ok=True)
    print(f"building {workload} into {final} ...", file=sys.stderr, flush=True)
    started = time.perf_counter()
    asyncio.run(generate(f"sqlite://{partial}", workload))
    partial.replace(final)
    print(f"  built in {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)
    return f"sqlite://{final}"


def postgres_build(admin_url: str, workload: Workload, *, rebuild: bool = False) -> str:
    """The URL of a kept PostgreSQL build of ``workload`` beside ``admin_url``'s database."""
    name = f"cms_bench_{workload.name}_{workload.posts}_{workload.key()}"
    return asyncio.run(_postgres_build(admin_url, name, workload, rebuild=rebuild))


async def _postgres_build(admin_url: str, name: str, workload: Workload, *, rebuild: bool) -> str:
    import asyncpg  # type: ignore[import-untyped]

    partial = f"{name}_partial"
    admin = await asyncpg.connect(admin_url)
    try:
        exists = await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if exists and not rebuild:
            url = with_database(admin_url, name)
            await _migrate(url)
            return url
        for stale in (partial, name):
            await admin.execute(f'DROP DATABASE IF EXISTS "{stale}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{partial}"')
    finally:
        await admin.close()
    print(f"building {workload} into {name} ...", file=sys.stderr, flush=True)
    started = time.perf_counter()
    await generate(with_database(admin_url, partial), workload)
    admin = await asyncpg.connect(admin_url)
    try:
        await admin.execute(f'ALTER DATABASE "{partial}" RENAME TO "{name}"')
    finally:
        await admin.close()
    print(f"  built in {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)
    return with_database(admin_url, name)


def with_database(url: str, name: str) -> str:
    """``url`` pointing at the database ``name`` on the same server."""
    return urllib.parse.urlunsplit(urllib.parse.urlsplit(url)._replace(path=f"/{name}"))
