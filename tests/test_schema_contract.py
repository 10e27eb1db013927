"""The published contract, schema/schema.graphql, must equal the schema the code builds."""

from __future__ import annotations

from pathlib import Path

import pytest

from cms.cli import main
from cms.graphql.schema import schema

SCHEMA_FILE = Path(__file__).resolve().parents[1] / "schema" / "schema.graphql"


def test_published_schema_matches_the_code() -> None:
    published = SCHEMA_FILE.read_text(encoding="utf-8")
    assert published == schema.as_str() + "\n", (
        "schema/schema.graphql is out of date: run `cms schema export` and review the diff"
    )


def test_schema_export_writes_the_printed_schema(tmp_path: Path) -> None:
    target = tmp_path / "out.graphql"
    with pytest.raises(SystemExit) as exit_:
        main(["schema", "export", "--out", str(target)])
    assert exit_.value.code == 0
    assert target.read_text(encoding="utf-8") == schema.as_str() + "\n"
