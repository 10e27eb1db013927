"""`cms trash purge --older-than AGE`, run as a real process against its own SQLite file."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.test_cli import cms, count


@pytest.fixture
def cli_db(tmp_path: Path) -> Path:
    path = tmp_path / "trash.sqlite3"
    result = cms("migrate", db=path)
    assert result.returncode == 0, result.stderr
    return path


def add_post(db: Path, slug: str, *, trashed_days_ago: float | None) -> None:
    now = datetime.now(UTC)
    deleted = None if trashed_days_ago is None else now - timedelta(days=trashed_days_ago)
    with sqlite3.connect(db) as connection:
        connection.execute(
            "INSERT OR IGNORE INTO author (name, slug, email, bio, role, is_active, created_at) "
            "VALUES ('A', 'a', 'a@example.org', '', 'AUTHOR', 1, ?)",
            (now.isoformat(" "),),
        )
        connection.execute(
            "INSERT INTO post (title, slug, excerpt, status, created_at, updated_at, version, "
            "deleted_at, author_id) VALUES (?, ?, '', 'DRAFT', ?, ?, 1, ?, 1)",
            (
                slug,
                slug,
                now.isoformat(" "),
                now.isoformat(" "),
                deleted and deleted.isoformat(" "),
            ),
        )


def test_purge_deletes_only_posts_trashed_longer_ago_than_the_age(cli_db: Path) -> None:
    add_post(cli_db, "kept", trashed_days_ago=None)
    add_post(cli_db, "recent", trashed_days_ago=29)
    add_post(cli_db, "old", trashed_days_ago=31)
    result = cms("trash", "purge", "--older-than", "30d", db=cli_db)
    assert result.returncode == 0, result.stderr
    assert "1 trashed post(s) deleted for good" in result.stdout
    with sqlite3.connect(cli_db) as connection:
        slugs = {row[0] for row in connection.execute("SELECT slug FROM post")}
    assert slugs == {"kept", "recent"}
    assert count(cli_db, "post") == 2


@pytest.mark.parametrize("age", ["30", "30y", "-1d", "1.5d"])
def test_purge_rejects_an_age_it_cannot_read(cli_db: Path, age: str) -> None:
    result = cms("trash", "purge", f"--older-than={age}", db=cli_db)
    assert result.returncode == 2
    assert "is not an age" in result.stderr
