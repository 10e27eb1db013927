"""`cms user create` and `cms user list`: passwords come from a prompt or stdin, never argv.

The commands run as real subprocesses against the test database, the way an operator runs them,
so that "stdin is not a terminal" is true and nothing of the test process leaks in.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from argon2 import PasswordHasher

from cms import cli
from cms.errors import InvalidInput
from cms.models import Author, Role
from cms.settings import Settings
from tests.factories import make_author

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "a long enough password"


def cms(settings: Settings, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "cms", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "CMS_DATABASE_URL": settings.database_url, "CMS_ENV": "test"},
        timeout=60,
        check=False,
    )


async def test_user_create_reads_the_password_from_stdin(settings: Settings) -> None:
    result = cms(
        settings,
        *("user", "create", "--email", "Ada@Example.org", "--name", "Ada Lovelace"),
        *("--role", "editor"),
        stdin=PASSWORD + "\n",
    )
    assert result.returncode == 0, result.stderr
    assert "ada@example.org" in result.stdout
    author = await Author.get(email="ada@example.org")
    assert (author.name, author.slug, author.role) == ("Ada Lovelace", "ada-lovelace", Role.EDITOR)
    assert author.password_hash is not None
    PasswordHasher().verify(author.password_hash, PASSWORD)


async def test_user_create_refuses_a_short_password_and_creates_nothing(
    settings: Settings,
) -> None:
    result = cms(
        settings, "user", "create", "--email", "a@example.org", "--name", "A", stdin="short\n"
    )
    assert result.returncode == 1
    assert "at least 12 characters" in result.stderr
    assert not await Author.filter(email="a@example.org").exists()


@pytest.mark.parametrize(
    "extra",
    [
        pytest.param(["--password", PASSWORD], id="password-option"),
        pytest.param([PASSWORD], id="positional-password"),
    ],
)
def test_user_create_takes_no_password_argument(
    extra: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main(["user", "create", "--email", "a@example.org", "--name", "A", *extra])
    assert exited.value.code == 2
    assert "unrecognized arguments" in capsys.readouterr().err


async def test_user_list_shows_every_account(settings: Settings) -> None:
    await make_author(name="Ada", email="ada@example.org", role=Role.ADMIN, password_hash="x")
    await make_author(name="Byline", email="byline@example.org", is_active=False)
    result = cms(settings, "user", "list")
    assert result.returncode == 0, result.stderr
    lines = [line.split("\t")[1:] for line in result.stdout.splitlines()]
    assert lines == [
        ["ADMIN", "ada@example.org", "Ada", "active"],
        ["AUTHOR", "byline@example.org", "Byline", "inactive, no password"],
    ]


class FakeTerminal:
    def isatty(self) -> bool:
        return True


def test_at_a_terminal_the_password_is_typed_twice(monkeypatch: pytest.MonkeyPatch) -> None:
    answers = iter([PASSWORD, PASSWORD])
    monkeypatch.setattr(cli.sys, "stdin", FakeTerminal())
    monkeypatch.setattr(cli.getpass, "getpass", lambda prompt: next(answers))
    assert cli._read_password() == PASSWORD


def test_at_a_terminal_two_different_passwords_are_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    answers = iter([PASSWORD, PASSWORD + "typo"])
    monkeypatch.setattr(cli.sys, "stdin", FakeTerminal())
    monkeypatch.setattr(cli.getpass, "getpass", lambda prompt: next(answers))
    with pytest.raises(InvalidInput, match="do not match"):
        cli._read_password()
