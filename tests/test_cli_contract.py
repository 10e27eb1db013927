"""`cms schema check`: breaking changes block unless a passed sunset allows them."""

from __future__ import annotations

import os
import shutil
import subprocess
from datetime import date
from pathlib import Path

import pytest

from cms.cli import main
from cms.cli.contract import compare_sdl
from cms.graphql.schema import schema

TODAY = date(2027, 6, 1)
PASSED = "Use `b` instead. Deprecated: 2027-01-01. Sunset: 2027-05-01."
AHEAD = "Use `b` instead. Deprecated: 2027-03-01. Sunset: 2027-07-01."

OLD = f"""
type Query {{
  post: Post
  posts(tag: String @deprecated(reason: "{PASSED}"), first: Int): [Post!]!
}}

type Post {{
  title: String!
  a: Int @deprecated(reason: "{PASSED}")
  soon: Int @deprecated(reason: "{AHEAD}")
  undated: Int @deprecated(reason: "Use b.")
  legacy: Legacy @deprecated(reason: "{PASSED}")
  status: Status
}}

enum Status {{
  DRAFT
  OLD @deprecated(reason: "{PASSED}")
}}
"""
LEGACY_TYPES = """
type Legacy {
  detail: LegacyDetail
}

type LegacyDetail {
  note: String
}
"""
OLD += LEGACY_TYPES


def changed(old: str, new: str) -> dict[str, tuple[bool, bool]]:
    """description -> (breaking, blocks)"""
    comparison = compare_sdl(old, new, today=TODAY)
    return {c.description: (c.breaking, c.blocks) for c in comparison.changes}


def without(sdl: str, *lines: str) -> str:
    kept = [line for line in sdl.splitlines() if line.strip() not in lines]
    return "\n".join(kept)


def test_removing_a_field_that_was_never_deprecated_blocks() -> None:
    changes = changed(OLD, without(OLD, "title: String!"))
    assert changes == {"Field Post.title was removed.": (True, True)}


def test_removing_a_deprecated_field_after_its_sunset_is_allowed() -> None:
    changes = changed(OLD, without(OLD, f'a: Int @deprecated(reason: "{PASSED}")'))
    assert changes == {"Field Post.a was removed.": (True, False)}


def test_removing_a_deprecated_field_before_its_sunset_blocks() -> None:
    changes = changed(OLD, without(OLD, f'soon: Int @deprecated(reason: "{AHEAD}")'))
    assert changes == {"Field Post.soon was removed.": (True, True)}


def test_a_deprecation_without_a_sunset_never_allows_removal() -> None:
    changes = changed(OLD, without(OLD, 'undated: Int @deprecated(reason: "Use b.")'))
    assert changes == {"Field Post.undated was removed.": (True, True)}


def test_changing_the_type_of_a_sunset_field_is_allowed() -> None:
    new = OLD.replace(f'a: Int @deprecated(reason: "{PASSED}")', "a: String")
    assert changed(OLD, new) == {"Field Post.a changed type from Int to String.": (True, False)}


def test_removing_a_sunset_argument_is_allowed_and_an_undeprecated_one_blocks() -> None:
    new = OLD.replace(
        f'posts(tag: String @deprecated(reason: "{PASSED}"), first: Int)', "posts(first: Int)"
    )
    assert changed(OLD, new) == {"Argument Query.posts(tag:) was removed.": (True, False)}
    new = OLD.replace(", first: Int)", ")")
    assert changed(OLD, new) == {"Argument Query.posts(first:) was removed.": (True, True)}


def test_removing_a_sunset_enum_value_is_allowed() -> None:
    new = without(OLD, f'OLD @deprecated(reason: "{PASSED}")')
    assert changed(OLD, new) == {"Enum value Status.OLD was removed.": (True, False)}


def test_types_only_a_sunset_field_used_may_go_with_it() -> None:
    new = without(OLD.replace(LEGACY_TYPES, ""), f'legacy: Legacy @deprecated(reason: "{PASSED}")')
    assert changed(OLD, new) == {
        "Field Post.legacy was removed.": (True, False),
        "Legacy was removed.": (True, False),
        "LegacyDetail was removed.": (True, False),
    }


def test_a_type_still_used_elsewhere_cannot_ride_on_a_sunset() -> None:
    old = OLD.replace("status: Status\n", "status: Status\n  current: Legacy\n")
    new = without(old, f'legacy: Legacy @deprecated(reason: "{PASSED}")', "current: Legacy")
    changes = changed(old, new)
    assert changes["Field Post.current was removed."] == (True, True)


def test_dangerous_changes_are_listed_without_blocking() -> None:
    new = OLD.replace("  DRAFT\n", "  DRAFT\n  PUBLISHED\n")
    assert changed(OLD, new) == {"Enum value Status.PUBLISHED was added.": (False, False)}


def test_other_breaking_changes_always_block() -> None:
    new = OLD.replace("posts(tag:", "posts(required: Int!, tag:")
    assert changed(OLD, new) == {
        "A required argument Query.posts(required:) was added.": (True, True)
    }


# The command: a file, a git revision, or nothing to compare with.


def run_check(*args: str) -> int:
    with pytest.raises(SystemExit) as exit_:
        main(["schema", "check", *args])
    return int(exit_.value.code or 0)


def code_schema_with(extra_post_field: str) -> str:
    """The code's schema as if an older version had one more Post field."""
    sdl = schema.as_str()
    marker = "type Post implements Node {\n"
    assert marker in sdl
    return sdl.replace(marker, marker + f"  {extra_post_field}\n", 1) + "\n"


def test_check_passes_against_the_published_schema(capsys: pytest.CaptureFixture[str]) -> None:
    code = run_check()
    assert code == 0
    assert "no breaking changes" in capsys.readouterr().out


def test_check_fails_on_a_removed_field_and_names_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old = tmp_path / "old.graphql"
    old.write_text(code_schema_with("wordCount: Int!"), encoding="utf-8")
    code = run_check("--against", str(old))
    out, err = capsys.readouterr()
    assert code == 1
    assert "BREAKING   Field Post.wordCount was removed." in out
    assert "1 breaking change(s)" in err


def test_check_allows_removing_a_field_whose_sunset_passed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old = tmp_path / "old.graphql"
    old.write_text(
        code_schema_with(
            'wordCount: Int @deprecated(reason: "Deprecated: 2020-01-01. Sunset: 2020-06-01.")'
        ),
        encoding="utf-8",
    )
    code = run_check("--against", str(old))
    assert code == 0
    assert "retired    Field Post.wordCount was removed." in capsys.readouterr().out


def test_check_of_a_missing_file_is_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = run_check("--against", str(tmp_path / "gone.graphql"))
    assert code == 1
    assert "no such file" in capsys.readouterr().err


needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="needs git")


GIT_IDENTITY = {
    f"GIT_{role}_{part}": value
    for role in ("AUTHOR", "COMMITTER")
    for part, value in (("NAME", "Test"), ("EMAIL", "test@example.org"))
}


def git(repo: Path, *args: str) -> None:
    subprocess.run(  # noqa: S603 - fixed arguments
        [shutil.which("git") or "git", "-C", str(repo), *args],
        check=True,
        capture_output=True,
        env={**os.environ, **GIT_IDENTITY, "HOME": str(repo)},
    )


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    git(tmp_path, "init", "-q")
    (tmp_path / "schema").mkdir()
    monkeypatch.chdir(tmp_path)
    return tmp_path


@needs_git
def test_check_against_a_revision_reads_that_revisions_schema(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo / "schema" / "schema.graphql").write_text(code_schema_with("wordCount: Int!"))
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "old")
    (repo / "schema" / "schema.graphql").write_text(schema.as_str() + "\n")
    git(repo, "commit", "-qam", "new")
    assert run_check("--against", "HEAD") == 0
    assert run_check("--against", "HEAD~1") == 1
    assert "HEAD~1:./schema/schema.graphql" in capsys.readouterr().out


@needs_git
def test_check_passes_and_says_so_on_a_first_commit(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo / "schema" / "schema.graphql").write_text(schema.as_str() + "\n")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "first")
    assert run_check("--against", "HEAD~1") == 0
    assert "HEAD~1 is not a commit in this clone" in capsys.readouterr().out


@needs_git
def test_check_passes_and_says_so_when_the_revision_had_no_schema(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo / "README").write_text("first\n")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "first")
    assert run_check("--against", "HEAD") == 0
    assert "schema/schema.graphql does not exist at HEAD" in capsys.readouterr().out
