"""Files the ``cms`` command cannot use: one line naming the file, exit 1, nothing written."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.cli import cms, count
from tests.content.samples import SAMPLE

PNG_HEADER = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"
Maker = Callable[[Path], Path]


def file_with(name: str, content: bytes) -> Maker:
    def make(folder: Path) -> Path:
        path = folder / name
        path.write_bytes(content)
        return path

    return make


def folder_named(name: str) -> Maker:
    def make(folder: Path) -> Path:
        path = folder / name
        path.mkdir()
        return path

    return make


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        pytest.param(
            file_with("latin1.txt", SAMPLE.read_bytes().replace(b"Onions", b"Oignons \xe0")),
            "latin1.txt: not UTF-8 text: byte 0xe0 at offset 848",
            id="latin-1-text",
        ),
        pytest.param(
            file_with("photo.png", PNG_HEADER),
            "photo.png: not UTF-8 text: byte 0x89 at offset 0",
            id="an-image",
        ),
        pytest.param(folder_named("exports"), "cannot read", id="a-directory"),
        pytest.param(lambda folder: folder / "absent.txt", "cannot read", id="a-missing-file"),
        pytest.param(file_with("empty.txt", b""), "the file is empty", id="an-empty-file"),
        pytest.param(
            file_with("table.csv", b"a,b\n1,2\n"), "missing the 'Tag: Name' line", id="csv"
        ),
        pytest.param(file_with("list.json", b"[1, 2]"), "not a 'cms-export' file", id="json-array"),
        pytest.param(file_with("broken.json", b'{"format": '), "not valid JSON", id="cut-json"),
        pytest.param(
            file_with("latin1.json", b'{"format": "cms-export", "x": "\xe9"}'),
            "not valid JSON",
            id="non-utf8-json",
        ),
    ],
)
def test_import_of_an_unusable_file_says_why_in_one_line_and_writes_nothing(
    cli_db: Path, tmp_path: Path, make: Maker, expected: str
) -> None:
    path = make(tmp_path)

    result = cms("import", str(path), db=cli_db)

    assert result.returncode == 1
    assert expected in result.stderr
    assert "Traceback" not in result.stderr
    assert count(cli_db, "post") == 0
    assert count(cli_db, "tag") == 0


@pytest.mark.parametrize(
    "command",
    [
        pytest.param(("export", "--out"), id="export"),
        pytest.param(("schema", "export", "--out"), id="schema-export"),
    ],
)
def test_writing_into_a_directory_is_a_one_line_error(
    cli_db: Path, tmp_path: Path, command: tuple[str, ...]
) -> None:
    result = cms(*command, str(tmp_path), db=cli_db)

    assert result.returncode == 1
    assert result.stderr.strip() == f"cms: cannot write {tmp_path}: Is a directory"


def test_exporting_into_a_missing_folder_is_a_one_line_error(cli_db: Path, tmp_path: Path) -> None:
    target = tmp_path / "no-such-folder" / "export.json"

    result = cms("export", "--out", str(target), db=cli_db)

    assert result.returncode == 1
    assert result.stderr.strip() == f"cms: cannot write {target}: No such file or directory"


def test_a_command_on_an_unmigrated_database_asks_for_migrate(tmp_path: Path) -> None:
    result = cms("export", db=tmp_path / "new.sqlite3")

    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "cms: database error: no such table: author (has `cms migrate` run?)"
    ]
