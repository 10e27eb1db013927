"""`cms export` and `cms import FILE.json`, run as real processes against SQLite files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli import cms, count


@pytest.fixture
def make_db(tmp_path: Path):  # type: ignore[no-untyped-def]
    def make(name: str) -> Path:
        path = tmp_path / f"{name}.sqlite3"
        result = cms("migrate", db=path)
        assert result.returncode == 0, result.stderr
        return path

    return make


def test_export_then_import_into_an_empty_database_gives_the_same_file(
    make_db, tmp_path: Path
) -> None:
    source, target = make_db("source"), make_db("target")
    assert cms("generate", "--posts", "30", "--sections", "2", db=source).returncode == 0
    first, second = tmp_path / "first.json", tmp_path / "second.json"

    exported = cms("export", "--out", str(first), db=source)
    dry = cms("import", str(first), "--dry-run", db=target)
    imported = cms("import", str(first), db=target)
    again = cms("export", "--out", str(second), db=target)

    assert exported.returncode == dry.returncode == imported.returncode == again.returncode == 0
    assert "would import" in dry.stdout
    assert "imported 5 author, 10 tag, 30 post, 60 section" in imported.stdout
    assert count(target, "post") == 30
    assert first.read_bytes() == second.read_bytes()


def test_export_writes_to_stdout_without_an_out_file(make_db) -> None:
    db = make_db("db")

    result = cms("export", db=db)

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["format"] == "cms-export"


def test_an_invalid_export_lists_every_problem_and_writes_nothing(make_db, tmp_path: Path) -> None:
    db = make_db("db")
    bad = tmp_path / "bad.json"
    bad.write_text(
        json.dumps(
            {
                "format": "cms-export",
                "version": 1,
                "authors": [],
                "tags": [{"id": 1, "name": "", "slug": "Bad Slug", "description": ""}],
                "posts": [],
            }
        )
    )

    result = cms("import", str(bad), db=db)

    assert result.returncode == 1
    assert f"{bad}: $.tags[0].name:" in result.stderr
    assert f"{bad}: $.tags[0].slug:" in result.stderr
    assert "nothing imported (2 problem(s))" in result.stderr
    assert count(db, "tag") == 0


def test_a_restore_into_a_database_with_content_is_refused(make_db, tmp_path: Path) -> None:
    db = make_db("db")
    assert cms("generate", "--posts", "2", db=db).returncode == 0
    dump = tmp_path / "dump.json"
    assert cms("export", "--out", str(dump), db=db).returncode == 0

    result = cms("import", str(dump), db=db)

    assert result.returncode == 1
    assert "empty database" in result.stderr
