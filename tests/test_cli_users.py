"""The `cms user` commands: create, list, deactivate, activate, reset-password, sessions and
revoke-session. Passwords come from a prompt or stdin, never argv.

The commands run as real subprocesses against the test database, the way an operator runs them,
so that "stdin is not a terminal" is true and nothing of the test process leaks in.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from argon2 import PasswordHasher

from cms import cli
from cms.auth.tokens import issue_token
from cms.errors import InvalidInput
from cms.models import ApiToken, Author, Role, TokenKind
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


async def session_of(author: Author, *, user_agent: str = "") -> ApiToken:
    issued = await issue_token(
        author_id=author.id,
        kind=TokenKind.SESSION,
        name="session",
        expires_at=datetime.now(UTC) + timedelta(days=1),
        user_agent=user_agent,
        client_address="203.0.113.7",
    )
    return issued.token


async def live_tokens(author: Author) -> int:
    return await ApiToken.filter(author_id=author.id, revoked_at__isnull=True).count()


async def test_user_deactivate_ends_everything_and_activate_lets_them_back(
    settings: Settings,
) -> None:
    await make_author(role=Role.ADMIN)
    leaver = await make_author(email="leaver@example.org")
    await session_of(leaver)
    await issue_token(
        author_id=leaver.id,
        kind=TokenKind.API,
        name="script",
        expires_at=datetime.now(UTC) + timedelta(days=1),
    )

    result = cms(settings, "user", "deactivate", "Leaver@Example.org")

    assert result.returncode == 0, result.stderr
    assert "deactivated leaver@example.org" in result.stdout
    assert not (await Author.get(id=leaver.id)).is_active
    assert await live_tokens(leaver) == 0
    result = cms(settings, "user", "activate", "leaver@example.org")
    assert result.returncode == 0, result.stderr
    assert (await Author.get(id=leaver.id)).is_active
    assert await live_tokens(leaver) == 0


async def test_user_deactivate_keeps_the_last_active_admin(settings: Settings) -> None:
    admin = await make_author(role=Role.ADMIN, email="boss@example.org")
    result = cms(settings, "user", "deactivate", "boss@example.org")
    assert result.returncode == 1
    assert result.stderr == (
        "cms: This is the last active admin: make another author an admin first.\n"
    )
    assert (await Author.get(id=admin.id)).is_active


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(("deactivate",), id="deactivate"),
        pytest.param(("activate",), id="activate"),
        pytest.param(("reset-password",), id="reset-password"),
        pytest.param(("sessions",), id="sessions"),
        pytest.param(("revoke-session", "--all"), id="revoke-session"),
    ],
)
def test_user_commands_refuse_unknown_emails_in_one_line(
    settings: Settings, args: tuple[str, ...]
) -> None:
    command, *options = args
    result = cms(settings, "user", command, "nobody@example.org", *options)
    assert result.returncode == 1
    assert result.stderr == "cms: There is no account with the email 'nobody@example.org'.\n"


async def test_user_reset_password_prints_a_new_password_once_and_ends_every_session(
    settings: Settings,
) -> None:
    ada = await make_author(email="ada@example.org", password_hash=PasswordHasher().hash(PASSWORD))
    await session_of(ada)
    await session_of(ada)

    result = cms(settings, "user", "reset-password", "ada@example.org")

    assert result.returncode == 0, result.stderr
    first, second = result.stdout.splitlines()
    prefix = "cms: new password for ada@example.org: "
    assert first.startswith(prefix)
    new_password = first.removeprefix(prefix)
    assert len(new_password) == 32
    assert second == "cms: 2 session(s) of ada@example.org ended"
    stored = (await Author.get(id=ada.id)).password_hash
    assert stored is not None
    PasswordHasher().verify(stored, new_password)
    assert await live_tokens(ada) == 0


async def test_user_reset_password_can_read_the_password_from_stdin(settings: Settings) -> None:
    ada = await make_author(email="ada@example.org")
    result = cms(
        settings, "user", "reset-password", "ada@example.org", "--password-stdin", stdin=PASSWORD
    )
    assert result.returncode == 0, result.stderr
    assert PASSWORD not in result.stdout
    stored = (await Author.get(id=ada.id)).password_hash
    assert stored is not None
    PasswordHasher().verify(stored, PASSWORD)
    short = cms(
        settings, "user", "reset-password", "ada@example.org", "--password-stdin", stdin="short"
    )
    assert short.returncode == 1
    assert short.stderr == "cms: The password must be at least 12 characters long.\n"


async def test_user_sessions_lists_and_revoke_session_ends_them(settings: Settings) -> None:
    ada = await make_author(email="ada@example.org")
    laptop = await session_of(ada, user_agent="Laptop Firefox")
    phone = await session_of(ada)
    stranger = await session_of(await make_author())

    listed = cms(settings, "user", "sessions", "ada@example.org")
    assert listed.returncode == 0, listed.stderr
    rows = [line.split("\t") for line in listed.stdout.splitlines()]
    assert [(row[0], row[2], row[3], row[4]) for row in rows] == [
        (str(phone.id), "never", "203.0.113.7", "-"),
        (str(laptop.id), "never", "203.0.113.7", "Laptop Firefox"),
    ]

    result = cms(settings, "user", "revoke-session", "ada@example.org", "--id", str(laptop.id))
    assert result.returncode == 0, result.stderr
    assert await live_tokens(ada) == 1
    # Another account's session is not this account's to end.
    result = cms(settings, "user", "revoke-session", "ada@example.org", "--id", str(stranger.id))
    assert result.returncode == 1
    assert result.stderr == f"cms: There is no session with id {stranger.id}.\n"
    result = cms(settings, "user", "revoke-session", "ada@example.org", "--all")
    assert result.stdout == "cms: 1 session(s) of ada@example.org ended\n"
    assert await live_tokens(ada) == 0
