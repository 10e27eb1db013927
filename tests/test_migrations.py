"""The migrations build exactly the models, and `cms migrate` applies them all, idempotently."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import orjson
import pytest
from tortoise import Tortoise
from tortoise.migrations.autodetector import MigrationAutodetector

from cms.db import MIGRATIONS_MODULE, tortoise_config
from cms.settings import Settings
from tests.conftest import POSTGRES_URL
from tests.ops.servers import postgres_schema

MIGRATIONS_DIR = Path(__file__).resolve().parents[1] / MIGRATIONS_MODULE.replace(".", "/")
SHIPPED = sorted(path.stem for path in MIGRATIONS_DIR.glob("[0-9]*.py"))


async def test_the_models_need_no_new_migration(
    migrated_database: None, settings: Settings
) -> None:
    apps = Tortoise.apps
    assert apps is not None
    pending = await MigrationAutodetector(apps, tortoise_config(settings)["apps"]).changes()
    operations = [str(op) for writer in pending for op in writer.operations]
    assert not operations, (
        "the models differ from cms/migrations: run `CMS_DATABASE_URL=sqlite://:memory: "
        f".venv/bin/tortoise makemigrations --name what_changed`. Pending: {operations}"
    )


def cms_migrate(database_url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cms", "migrate"],
        env={**os.environ, "CMS_DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_cms_migrate_applies_every_migration_on_sqlite(tmp_path: Path) -> None:
    db = tmp_path / "m.sqlite3"
    for _ in range(2):  # the second run has nothing left to do
        result = cms_migrate(f"sqlite://{db}")
        assert result.returncode == 0, result.stderr
    with sqlite3.connect(db) as connection:
        applied = [name for (name,) in connection.execute("SELECT name FROM tortoise_migrations")]
    assert sorted(applied) == SHIPPED


@pytest.fixture
async def empty_postgres_schema() -> AsyncIterator[str]:
    if not POSTGRES_URL:
        pytest.skip("needs PostgreSQL: set CMS_TEST_POSTGRES_URL")
    async with postgres_schema(POSTGRES_URL, f"cms_migrate_{os.getpid()}") as url:
        yield url


@pytest.mark.postgres
async def test_cms_migrate_applies_every_migration_on_postgres(
    empty_postgres_schema: str,
) -> None:
    import asyncpg

    for _ in range(2):
        result = cms_migrate(empty_postgres_schema)
        assert result.returncode == 0, result.stderr
    server, _, schema = empty_postgres_schema.partition("?schema=")
    connection = await asyncpg.connect(server, server_settings={"search_path": schema})
    try:
        rows = await connection.fetch("SELECT name FROM tortoise_migrations")
        applied = [row["name"] for row in rows]
        rows = await connection.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = $1", schema
        )
        tables = {row["tablename"] for row in rows}
    finally:
        await connection.close()
    assert sorted(applied) == SHIPPED
    assert {"post", "section", "tag", "author"} <= tables


def test_revisions_move_their_section_bodies_apart_once_per_post_and_content(
    tmp_path: Path,
) -> None:
    db = tmp_path / "r.sqlite3"
    url = f"sqlite://{db}"
    # Tortoise's own command migrates to a given point; `cms migrate` goes all the way.
    before = subprocess.run(  # noqa: S603 - our own interpreter's tortoise command
        [Path(sys.executable).parent / "tortoise", "migrate", "models", "0004_webhooks"],
        env={**os.environ, "CMS_DATABASE_URL": url},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert before.returncode == 0, before.stderr
    fields = {"title": "T", "slug": "t", "excerpt": "", "status": "DRAFT", "published_at": None}
    fields |= {"author_id": 1, "tags": [], "tag_ids": []}
    intro = {"heading": None, "anchor": "intro", "body": "Same words."}
    usage = {"heading": "Usage", "anchor": "usage", "body": "Other words."}
    snapshots = [
        {**fields, "sections": [intro]},
        {**fields, "sections": [intro, usage]},
        {**fields, "sections": [usage, intro]},
        {**fields, "sections": "not a list: kept as it is"},
    ]
    with sqlite3.connect(db) as connection:
        connection.execute(
            "INSERT INTO author (id, name, slug, email, bio, role, created_at, is_active) "
            "VALUES (1, 'A', 'a', 'a@example.org', '', 'AUTHOR', '2026-01-01', 1)"
        )
        connection.execute(
            "INSERT INTO post (id, title, slug, excerpt, status, created_at, updated_at, version, "
            "author_id) VALUES (1, 'T', 't', '', 'DRAFT', '2026-01-01', '2026-01-01', 4, 1)"
        )
        connection.executemany(
            "INSERT INTO revision (post_id, version, created_at, mutation, snapshot) "
            "VALUES (1, ?, '2026-01-01', 'updatePost', ?)",
            [(n, orjson.dumps(s).decode()) for n, s in enumerate(snapshots, start=1)],
        )

    result = cms_migrate(url)

    assert result.returncode == 0, result.stderr
    with sqlite3.connect(db) as connection:
        bodies = connection.execute("SELECT body FROM revision_body ORDER BY body").fetchall()
        rows = connection.execute(
            "SELECT snapshot, sections, stored_bytes FROM revision ORDER BY version"
        ).fetchall()
    assert bodies == [("Other words.",), ("Same words.",)]
    same, other = (
        hashlib.sha256(text.encode()).hexdigest() for text in ("Same words.", "Other words.")
    )
    assert [orjson.loads(snapshot) for snapshot, _, _ in rows[:3]] == [fields] * 3
    assert [orjson.loads(index) for _, index, _ in rows[:3]] == [
        [[None, "intro", same]],
        [[None, "intro", same], ["Usage", "usage", other]],
        [["Usage", "usage", other], [None, "intro", same]],
    ]
    assert orjson.loads(rows[3][0]) == snapshots[3]
    assert rows[3][1] is None
    # The first revision holding a body pays for it; the move that follows adds no body.
    assert rows[0][2] > len("Same words.")
    assert rows[2][2] < rows[1][2]
