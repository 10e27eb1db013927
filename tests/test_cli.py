"""The `cms` command, run as a real process against its own SQLite file."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from tests.cli import cms, count
from tests.content.samples import SAMPLE


def test_migrate_is_idempotent(cli_db: Path) -> None:
    again = cms("migrate", db=cli_db)
    assert again.returncode == 0, again.stderr
    assert "up to date" in again.stdout


def test_import_of_the_sample_creates_then_updates(cli_db: Path) -> None:
    first = cms("import", str(SAMPLE), db=cli_db)
    assert first.returncode == 0, first.stderr
    assert (count(cli_db, "post"), count(cli_db, "section"), count(cli_db, "tag")) == (5, 18, 1)
    again = cms("import", str(SAMPLE), db=cli_db)
    assert again.returncode == 0, again.stderr
    assert (count(cli_db, "post"), count(cli_db, "section"), count(cli_db, "tag")) == (5, 18, 1)


def test_malformed_import_exits_non_zero_names_lines_and_writes_nothing(
    cli_db: Path, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_text("  • A post before any tag line\n\n    Some text.\n", encoding="utf-8")
    result = cms("import", str(bad), db=cli_db)
    assert result.returncode == 1
    assert f"{bad}:1:" in result.stderr
    assert "Traceback" not in result.stderr
    assert count(cli_db, "post") == 0


def test_import_of_a_missing_file_is_a_clear_error(cli_db: Path, tmp_path: Path) -> None:
    result = cms("import", str(tmp_path / "nope.txt"), db=cli_db)
    assert result.returncode == 1
    assert "cannot read" in result.stderr


def test_demo_content_loads_and_reloads(cli_db: Path) -> None:
    assert cms("demo", db=cli_db).returncode == 0
    posts = count(cli_db, "post")
    assert posts > 0
    assert cms("demo", db=cli_db).returncode == 0
    assert count(cli_db, "post") == posts


def test_generate_is_deterministic(tmp_path: Path) -> None:
    titles = []
    for name in ("a", "b"):
        db = tmp_path / f"{name}.sqlite3"
        assert cms("migrate", db=db).returncode == 0
        result = cms("generate", "--posts", "30", "--tags", "4", "--authors", "2", db=db)
        assert result.returncode == 0, result.stderr
        with sqlite3.connect(db) as connection:
            titles.append(connection.execute("SELECT slug, title FROM post ORDER BY id").fetchall())
    assert len(titles[0]) == 30
    assert titles[0] == titles[1]


def test_serve_refuses_several_workers_on_sqlite(tmp_path: Path) -> None:
    result = cms("serve", "--workers", "2", db=tmp_path / "x.sqlite3")
    assert result.returncode == 2
    assert "SQLite allows one writer process" in result.stderr


def test_bad_settings_are_reported_without_a_traceback(tmp_path: Path) -> None:
    env = {**os.environ, "CMS_DATABASE_URL": "mysql://nope"}
    result = subprocess.run(
        [sys.executable, "-m", "cms", "migrate"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "unsupported database URL scheme" in result.stderr
    assert "Traceback" not in result.stderr
