"""The migrations build exactly the models, and `cms migrate` applies them all, idempotently."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from tortoise import Tortoise
from tortoise.migrations.autodetector import MigrationAutodetector

from cms.db import MIGRATIONS_MODULE, tortoise_config
from cms.rendering.markdown import render
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


def test_tag_names_that_clash_in_case_stop_the_unique_name_migration(tmp_path: Path) -> None:
    db = tmp_path / "clash.sqlite3"
    assert cms_migrate(f"sqlite://{db}").returncode == 0
    # Back to the state before 0008, with two tags a race created before the index existed.
    with sqlite3.connect(db) as connection:
        connection.execute("DROP INDEX tag_name_folded_key")
        connection.execute("DELETE FROM tortoise_migrations WHERE name = '0008_unique_tag_names'")
        connection.execute(
            "INSERT INTO tag (name, slug, description) VALUES ('Python', 'python', ''), "
            "('python', 'python-2', '')"
        )

    refused = cms_migrate(f"sqlite://{db}")
    assert refused.returncode != 0
    assert "Tags whose names differ only in case exist ('python')" in refused.stderr

    with sqlite3.connect(db) as connection:
        connection.execute("UPDATE tag SET name = 'Python 2' WHERE slug = 'python-2'")
    assert cms_migrate(f"sqlite://{db}").returncode == 0
    with sqlite3.connect(db) as connection, pytest.raises(sqlite3.IntegrityError):
        connection.execute("INSERT INTO tag (name, slug, description) VALUES ('PYTHON', 'p', '')")


# Run in a child process: it migrates a database of its own, step by step, with the ORM.
RENDER_EXISTING = """
import asyncio, json, sys
from tortoise import Tortoise, connections
from tortoise.migrations.api import migrate
from cms.db import init_orm, tortoise_config
from cms.models import Author, Post, Section
from cms.settings import get_settings

async def main(bodies):
    settings = get_settings()
    await migrate(config=tortoise_config(settings), target="models.0004_webhooks")
    await init_orm(settings)
    author = await Author.create(name="A", slug="a", email="a@example.org")
    post = await Post.create(title="T", slug="t", author=author)
    connection = connections.get("default")
    marks = ", ".join(["?"] * 5 if settings.is_sqlite else [f"${n}" for n in range(1, 6)])
    for position, body in enumerate(bodies):
        await connection.execute_query(
            f"INSERT INTO section (post_id, position, heading, anchor, body) VALUES ({marks})",
            [post.id, position, None, f"s{position}", body],
        )
    await Tortoise.close_connections()
    await migrate(config=tortoise_config(settings))
    await init_orm(settings)
    rows = await Section.all().order_by("position").values("html", "plain_text")
    await Tortoise.close_connections()
    print(json.dumps(rows))

asyncio.run(main(json.loads(sys.stdin.read())))
"""


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_migration_0005_renders_the_sections_already_stored(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    if backend == "sqlite":
        database_url = f"sqlite://{tmp_path / 'r.sqlite3'}"
    else:
        database_url = request.getfixturevalue("empty_postgres_schema")
    # The second was accepted before the bounds existed: it is kept, escaped, not rendered.
    bodies = ["# Hi\n\n*there* & <b>", "![" * 6000]
    result = subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-c", RENDER_EXISTING],
        input=json.dumps(bodies),
        env={**os.environ, "CMS_DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.splitlines()[-1]) == [
        {"html": render(bodies[0]).html, "plain_text": render(bodies[0]).plain_text},
        {"html": f"<pre>{bodies[1]}</pre>\n", "plain_text": bodies[1]},
    ]


# Revisions as 0004 stored them: whole snapshots. The fourth is not in the shape snapshots take.
OLD_FIELDS: dict[str, Any] = {
    "title": "T",
    "slug": "t",
    "excerpt": "",
    "status": "DRAFT",
    "published_at": None,
    "author_id": 1,
    "tags": [],
    "tag_ids": [],
}
INTRO = {"heading": None, "anchor": "intro", "body": "Same words."}
USAGE = {"heading": "Usage", "anchor": "usage", "body": "Other words."}
OLD_SNAPSHOTS = [
    {**OLD_FIELDS, "sections": [INTRO]},
    {**OLD_FIELDS, "sections": [INTRO, USAGE]},
    {**OLD_FIELDS, "sections": [USAGE, INTRO]},
    {**OLD_FIELDS, "sections": "not a list: kept as it is"},
]
OLD_ROWS = [
    "INSERT INTO author (id, name, slug, email, bio, role, created_at, is_active) "
    "VALUES (1, 'A', 'a', 'a@example.org', '', 'AUTHOR', '2026-01-01', true)",
    "INSERT INTO post (id, title, slug, excerpt, status, created_at, updated_at, version, "
    "author_id) VALUES (1, 'T', 't', '', 'DRAFT', '2026-01-01', '2026-01-01', 4, 1)",
    # Literal values, so that one text serves sqlite3 (?) and asyncpg ($1) alike.
    *(
        "INSERT INTO revision (post_id, version, created_at, mutation, snapshot) "  # noqa: S608
        f"VALUES (1, {n}, '2026-01-01', 'updatePost', '{orjson.dumps(snapshot).decode()}')"
        for n, snapshot in enumerate(OLD_SNAPSHOTS, start=1)
    ),
]
CONVERTED = (
    "SELECT snapshot, sections, stored_bytes FROM revision ORDER BY version",
    "SELECT body FROM revision_body ORDER BY body",
)


def migrate_to_0004(database_url: str) -> None:
    # Tortoise's own command migrates to a given point; `cms migrate` goes all the way.
    result = subprocess.run(  # noqa: S603 - our own interpreter's tortoise command
        [Path(sys.executable).parent / "tortoise", "migrate", "models", "0004_webhooks"],
        env={**os.environ, "CMS_DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def check_converted(rows: list[tuple[Any, Any, int]], bodies: list[str]) -> None:
    """``rows``: each revision's snapshot, sections (JSON text) and stored_bytes."""
    assert bodies == ["Other words.", "Same words."]
    same, other = (
        hashlib.sha256(body.encode()).hexdigest() for body in ("Same words.", "Other words.")
    )
    assert [orjson.loads(snapshot) for snapshot, _, _ in rows[:3]] == [OLD_FIELDS] * 3
    assert [orjson.loads(index) for _, index, _ in rows[:3]] == [
        [[None, "intro", same]],
        [[None, "intro", same], ["Usage", "usage", other]],
        [["Usage", "usage", other], [None, "intro", same]],
    ]
    assert orjson.loads(rows[3][0]) == OLD_SNAPSHOTS[3]
    assert rows[3][1] is None
    # The first revision holding a body pays for it; the move that follows adds no body.
    assert rows[0][2] > len("Same words.")
    assert rows[2][2] < rows[1][2]


def test_0006_moves_revision_bodies_apart_once_per_post_and_content_on_sqlite(
    tmp_path: Path,
) -> None:
    db = tmp_path / "r.sqlite3"
    migrate_to_0004(f"sqlite://{db}")
    with sqlite3.connect(db) as connection:
        for statement in OLD_ROWS:
            connection.execute(statement)

    result = cms_migrate(f"sqlite://{db}")

    assert result.returncode == 0, result.stderr
    with sqlite3.connect(db) as connection:
        rows = connection.execute(CONVERTED[0]).fetchall()
        bodies = [body for (body,) in connection.execute(CONVERTED[1])]
    check_converted(rows, bodies)


@pytest.mark.postgres
async def test_0006_moves_revision_bodies_apart_once_per_post_and_content_on_postgres(
    empty_postgres_schema: str,
) -> None:
    import asyncpg

    migrate_to_0004(empty_postgres_schema)
    server, _, schema = empty_postgres_schema.partition("?schema=")
    connection = await asyncpg.connect(server, server_settings={"search_path": schema})
    try:
        for statement in OLD_ROWS:
            await connection.execute(statement)
        result = cms_migrate(empty_postgres_schema)
        assert result.returncode == 0, result.stderr
        rows = [tuple(row) for row in await connection.fetch(CONVERTED[0])]
        bodies = [row["body"] for row in await connection.fetch(CONVERTED[1])]
    finally:
        await connection.close()
    check_converted(rows, bodies)
