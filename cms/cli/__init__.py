"""The ``cms`` command: serve, migrate, import, generate, demo, schema, user and trash.

Every command reads the same ``CMS_*`` settings as the app. Exit status 0 means success, 1 a
failure that was reported on stderr, 2 a usage error.

``contract`` is the tooling behind ``cms schema check``: it compares the published schema with
the code's (and reads the baseline from git), so it lives with the command, not in the API.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import getpass
import os
import sys
from collections.abc import Callable, Coroutine, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tortoise.exceptions import BaseORMException
from tqdm import tqdm

from cms.errors import CMSError, InvalidInput
from cms.models import Role
from cms.settings import Settings, get_settings

DEFAULT_SCHEMA_PATH = Path("schema/schema.graphql")


def main(argv: Sequence[str] | None = None) -> None:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        settings = get_settings()
    except ValueError as exc:  # pydantic's ValidationError: a bad CMS_* variable
        parser.exit(2, f"cms: invalid settings: {exc}\n")
    try:
        status = args.handler(settings, args)
    except CMSError as exc:
        print(f"cms: {exc.message}", file=sys.stderr)
        status = 1
    except BaseORMException as exc:
        # The usual cause is a database that was never migrated; anything else is still one
        # line, since a traceback tells an operator less than the database's own message.
        print(f"cms: database error: {exc} (has `cms migrate` run?)", file=sys.stderr)
        status = 1
    sys.exit(status)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cms", description="A headless CMS served over GraphQL.")
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="serve the API with uvicorn")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--workers", type=int, help="worker processes (PostgreSQL only)")
    serve.set_defaults(handler=_serve)

    migrate = commands.add_parser("migrate", help="apply pending database migrations")
    migrate.set_defaults(handler=_run(_migrate))

    importer = commands.add_parser(
        "import",
        help="import a plain-text export, or restore a JSON export (FILE.json)",
        description="A file named *.json, or whose first character is '{', is restored as a "
        "JSON export (see `cms export`) into an empty database; any other file is read as "
        "plain text.",
    )
    importer.add_argument("path", type=Path)
    importer.add_argument("--author", help="slug of the author of every imported post")
    importer.add_argument("--status", choices=("published", "draft"), default="published")
    importer.add_argument(
        "--dry-run",
        action="store_true",
        help="JSON exports: check everything and count the rows, write nothing",
    )
    importer.set_defaults(handler=_run(_import))

    exporter = commands.add_parser("export", help="write every row as a JSON export")
    exporter.add_argument("--out", type=Path, help="the file to write (default: stdout)")
    exporter.set_defaults(handler=_run(_export))

    generate = commands.add_parser("generate", help="generate synthetic content")
    for name, default in (("posts", 100), ("tags", 10), ("authors", 5), ("sections", 5)):
        generate.add_argument(f"--{name}", type=int, default=default)
    generate.add_argument("--seed", type=int, default=1)
    generate.set_defaults(handler=_run(_generate))

    demo = commands.add_parser("demo", help="load the bundled demo content (idempotent)")
    demo.set_defaults(handler=_run(_demo))

    schema = commands.add_parser("schema", help="the published GraphQL contract")
    schema_commands = schema.add_subparsers(required=True, metavar="ACTION")
    export = schema_commands.add_parser("export", help="write the schema printed from the code")
    export.add_argument("--out", type=Path, default=DEFAULT_SCHEMA_PATH)
    export.set_defaults(handler=_schema_export)
    check = schema_commands.add_parser(
        "check",
        help="list breaking and dangerous changes against the published schema",
        description="Compare the code's schema with a published one: a file, or a git revision's "
        f"{DEFAULT_SCHEMA_PATH}. Exits with 1 on a breaking change, unless the old schema had "
        "deprecated what changed with a sunset date that has passed.",
    )
    check.add_argument(
        "--against",
        default=str(DEFAULT_SCHEMA_PATH),
        metavar="FILE|GIT_REF",
        help=f"the published schema (default: {DEFAULT_SCHEMA_PATH})",
    )
    check.set_defaults(handler=_schema_check)

    user = commands.add_parser("user", help="manage the accounts that can sign in")
    user_commands = user.add_subparsers(required=True, metavar="ACTION")
    create_user = user_commands.add_parser(
        "create",
        help="create an account",
        description="Create an account. The password is asked for at the terminal (twice), or "
        "read from the first line of standard input when that is not a terminal; it is never "
        "an argument, so it stays out of shell history and process listings.",
    )
    create_user.add_argument("--email", required=True)
    create_user.add_argument("--name", required=True)
    create_user.add_argument(
        "--role", type=str.upper, choices=[role.value for role in Role], default=Role.AUTHOR.value
    )
    create_user.set_defaults(handler=_user_create)
    list_users = user_commands.add_parser("list", help="list every account")
    list_users.set_defaults(handler=_run(_user_list))
    deactivate = user_commands.add_parser(
        "deactivate",
        help="stop an account from signing in and end all its sessions and tokens",
    )
    deactivate.add_argument("email")
    deactivate.set_defaults(handler=_run(_user_deactivate))
    activate = user_commands.add_parser(
        "activate", help="let a deactivated account sign in again (old tokens stay revoked)"
    )
    activate.add_argument("email")
    activate.set_defaults(handler=_run(_user_activate))
    reset = user_commands.add_parser(
        "reset-password",
        help="give an account a new password and end all its sessions",
        description="Give an account a new password and end all its sessions (its API tokens "
        "stay; `deactivate` ends those too). A random password is generated and printed once, "
        "unless --password-stdin reads one from the first line of standard input.",
    )
    reset.add_argument("email")
    reset.add_argument("--password-stdin", action="store_true")
    reset.set_defaults(handler=_user_reset_password)
    sessions = user_commands.add_parser(
        "sessions",
        help="list an account's open sessions, newest first",
        description="One line per open session, tab-separated: its number, when it was "
        "signed in, when it was last used (to the minute), the client address and the "
        "User-Agent of the login.",
    )
    sessions.add_argument("email")
    sessions.set_defaults(handler=_run(_user_sessions))
    revoke = user_commands.add_parser(
        "revoke-session", help="end one or all of an account's sessions"
    )
    revoke.add_argument("email")
    which = revoke.add_mutually_exclusive_group(required=True)
    which.add_argument("--id", type=int, help="the session's number, from `cms user sessions`")
    which.add_argument("--all", action="store_true", help="every open session of the account")
    revoke.set_defaults(handler=_run(_user_revoke_session))

    trash = commands.add_parser("trash", help="posts moved to the trash by deletePost")
    trash_commands = trash.add_subparsers(required=True, metavar="ACTION")
    purge = trash_commands.add_parser("purge", help="delete trashed posts for good")
    purge.add_argument(
        "--older-than",
        type=_duration,
        required=True,
        metavar="AGE",
        help="only posts trashed longer ago than this: 30d, 12h, 45m, 90s or 2w",
    )
    purge.set_defaults(handler=_run(_trash_purge))
    return parser


Handler = Callable[[Settings, argparse.Namespace], int]


def _run(command: Callable[[Settings, argparse.Namespace], Coroutine[Any, Any, int]]) -> Handler:
    """Run an async command inside an open database connection."""

    def handler(settings: Settings, args: argparse.Namespace) -> int:
        from cms.db import database

        async def with_database() -> int:
            async with database(settings):
                return await command(settings, args)

        return asyncio.run(with_database())

    return handler


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    workers = args.workers or settings.workers
    if workers > 1 and settings.is_sqlite:
        print(
            "cms: --workers > 1 needs PostgreSQL: SQLite allows one writer process. "
            "Set CMS_DATABASE_URL=postgres://... or serve with one worker.",
            file=sys.stderr,
        )
        return 2
    if settings.is_sqlite:
        # A file that cannot be opened is a mistake in the settings: say so now, in one line.
        from cms.db import check_sqlite

        try:
            check_sqlite(settings)
        except CMSError as exc:
            print(f"cms: {settings.database_url}: {exc.message}", file=sys.stderr)
            return 1
    # Worker processes build the app from the environment, so pass the overrides through it.
    for name, value in (("CMS_HOST", args.host), ("CMS_PORT", args.port)):
        if value is not None:
            os.environ[name] = str(value)
    from cms.observability.logging import configure_logging

    # Our log format for uvicorn's own lines too (the supervisor's, with several workers);
    # the request log line replaces uvicorn's access log (cms.observability.middleware).
    configure_logging(settings)
    uvicorn.run(
        "cms.app:create_app",
        factory=True,
        host=args.host or settings.host,
        port=args.port or settings.port,
        workers=workers,
        log_level=settings.log_level,
        log_config=None,
        access_log=False,
        # Caps on connections per client and per worker, and timeouts on headers and idle
        # connections (cms.web.connections); named, not imported, so that worker processes
        # import it themselves. The cap on requests at once is the app's (cms.web.concurrency):
        # uvicorn's limit_concurrency would count idle connections too.
        http="cms.web.connections:GuardedHttpProtocol",
        timeout_keep_alive=settings.keep_alive_timeout,
        # X-Forwarded-For and -Proto are believed from these proxies only (cms.web.proxies);
        # uvicorn's default would believe any local process.
        forwarded_allow_ips=settings.trusted_proxies,
        # A WebSocket message is held to the anonymous body cap: uvicorn enforces it on every
        # frame, before connection_init has checked any token. Subscriptions are small;
        # large writes go over HTTP, where a verified token raises the cap.
        ws_max_size=settings.max_body_bytes,
        server_header=False,
    )
    return 0


async def _migrate(settings: Settings, args: argparse.Namespace) -> int:
    from cms.db import apply_migrations

    await apply_migrations(settings)
    print("cms: database is up to date")
    return 0


async def _import(settings: Settings, args: argparse.Namespace) -> int:
    from contextlib import AsyncExitStack

    from cms.cache import build_response_cache
    from cms.content.files import decode_text, read_bytes
    from cms.content.importer import import_plaintext
    from cms.content.jsonimport import looks_like_json
    from cms.content.plaintext import PlainTextError, parse_plaintext
    from cms.models import PostStatus

    raw = read_bytes(args.path)
    if args.path.suffix.lower() == ".json" or looks_like_json(raw[:64]):
        return await _import_json(args, raw)
    if args.dry_run:
        print("cms: --dry-run works with JSON exports only", file=sys.stderr)
        return 2
    try:
        parsed = parse_plaintext(decode_text(args.path, raw))
    except PlainTextError as exc:
        for line, message in exc.problems:
            print(f"{args.path}:{line}: {message}", file=sys.stderr)
        print(f"cms: nothing imported ({len(exc.problems)} problem(s))", file=sys.stderr)
        return 1
    status = PostStatus.PUBLISHED if args.status == "published" else PostStatus.DRAFT
    async with AsyncExitStack() as stack:
        # With CMS_REDIS_URL the servers' response cache lives in Redis: the import's changes
        # purge it from this process. (A server's in-process cache cannot hear this process;
        # its entries expire within CMS_CACHE_TTL + CMS_CACHE_SWR.)
        cache = build_response_cache(settings) if settings.redis_url else None
        if cache is not None:
            await stack.enter_async_context(cache.running())
        with _progress("importing", unit="post") as advance:
            report = await import_plaintext(
                parsed, author_slug=args.author, status=status, progress=advance
            )
    print(
        f"cms: {report.created} post(s) created, {report.updated} updated, "
        f"{report.unchanged} unchanged"
    )
    return 0


async def _import_json(args: argparse.Namespace, raw: bytes) -> int:
    from cms.content.jsonimport import ExportInvalid, parse_export, restore

    if args.author is not None or args.status != "published":
        print("cms: --author and --status apply to plain-text files only", file=sys.stderr)
        return 2
    try:
        document = parse_export(raw)
    except ExportInvalid as exc:
        for problem in exc.problems:
            print(f"{args.path}: {problem}", file=sys.stderr)
        print(f"cms: nothing imported ({len(exc.problems)} problem(s))", file=sys.stderr)
        return 1
    with _progress("importing", unit="post") as advance:
        report = await restore(document, dry_run=args.dry_run, progress=advance)
    print(f"cms: {report}")
    return 0


async def _export(settings: Settings, args: argparse.Namespace) -> int:
    from cms.content.files import write_bytes
    from cms.content.jsonexport import export_bytes

    with _progress("exporting", unit="post") as advance:
        data = await export_bytes(progress=advance)
    if args.out is None:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    else:
        write_bytes(args.out, data)
        print(f"cms: wrote {args.out}", file=sys.stderr)
    return 0


async def _generate(settings: Settings, args: argparse.Namespace) -> int:
    from cms.content.generate import generate_content

    with _progress("generating", unit="post") as advance:
        report = await generate_content(
            posts=args.posts,
            tags=args.tags,
            authors=args.authors,
            sections=args.sections,
            seed=args.seed,
            progress=advance,
        )
    print(f"cms: generated {report}")
    return 0


async def _demo(settings: Settings, args: argparse.Namespace) -> int:
    from cms.content.importer import import_plaintext
    from cms.content.plaintext import parse_plaintext, read_demo

    report = await import_plaintext(parse_plaintext(read_demo()), author_slug=None)
    print(f"cms: demo content loaded ({report.created} created, {report.updated} updated)")
    return 0


def _schema_export(settings: Settings, args: argparse.Namespace) -> int:
    from cms.content.files import write_bytes
    from cms.graphql.schema import schema

    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_bytes(args.out, (schema.as_str() + "\n").encode())
    print(f"cms: wrote {args.out}")
    return 0


def _schema_check(settings: Settings, args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from cms.cli.contract import NoBaseline, compare_sdl, read_baseline
    from cms.graphql.schema import schema

    try:
        source, published = read_baseline(args.against, schema_path=DEFAULT_SCHEMA_PATH)
    except NoBaseline as exc:
        print(f"cms: nothing to compare with: {exc}")
        return 0
    comparison = compare_sdl(published, schema.as_str(), today=datetime.now(UTC).date())
    print(f"cms: the code's schema compared with {source}")
    for change in comparison.changes:
        if change.blocks:
            print(f"  BREAKING   {change.description}")
        elif change.breaking:
            print(f"  retired    {change.description} ({change.allowed_because})")
        else:
            print(f"  dangerous  {change.description}")
    if comparison.blocking:
        print(
            f"cms: {len(comparison.blocking)} breaking change(s). Deprecate first, with a sunset "
            "at least twelve weeks ahead, and remove after it (README: Schema changes).",
            file=sys.stderr,
        )
        return 1
    print("cms: no breaking changes" if not comparison.changes else "cms: nothing blocks")
    return 0


def _user_create(settings: Settings, args: argparse.Namespace) -> int:
    # Read before connecting, so that a slow typist holds no database connection open.
    password = _read_password()
    return _run(functools.partial(_create_user, password=password))(settings, args)


def _read_password() -> str:
    """The new password: typed twice at a terminal, else the first line of stdin."""
    if sys.stdin.isatty():
        password = getpass.getpass("Password: ")
        if getpass.getpass("Repeat the password: ") != password:
            raise InvalidInput("The passwords do not match.", field="password")
        return password
    return _first_line_of_stdin()


def _first_line_of_stdin() -> str:
    return sys.stdin.readline().removesuffix("\n").removesuffix("\r")


async def _create_user(settings: Settings, args: argparse.Namespace, *, password: str) -> int:
    from cms.auth.passwords import password_hashing
    from cms.errors import ValidationFailed
    from cms.services.accounts import create_user

    try:
        author = await create_user(
            email=args.email,
            name=args.name,
            role=Role(args.role),
            password=password,
            hashing=password_hashing(settings.hash_concurrency),
        )
    except ValidationFailed as exc:
        for problem in exc.problems:
            print(f"cms: {problem.message}", file=sys.stderr)
        return 1
    print(f"cms: created {author.role} {author.email} (slug {author.slug})")
    return 0


async def _user_list(settings: Settings, args: argparse.Namespace) -> int:
    from cms.services.accounts import list_users

    for author in await list_users():
        status = "active" if author.is_active else "inactive"
        if author.password_hash is None:
            status += ", no password"
        print(f"{author.id}\t{author.role}\t{author.email}\t{author.name}\t{status}")
    return 0


async def _user_deactivate(settings: Settings, args: argparse.Namespace) -> int:
    from cms.services.account_lifecycle import deactivate_user, find_user

    author = await find_user(args.email)
    await deactivate_user(None, author_id=author.id, now=datetime.now(UTC))
    print(f"cms: deactivated {author.email}; its sessions and tokens no longer work")
    return 0


async def _user_activate(settings: Settings, args: argparse.Namespace) -> int:
    from cms.services.account_lifecycle import find_user, reactivate_user

    author = await find_user(args.email)
    await reactivate_user(None, author_id=author.id)
    print(f"cms: activated {author.email}")
    return 0


def _user_reset_password(settings: Settings, args: argparse.Namespace) -> int:
    # Read before connecting, like `user create`.
    password = _first_line_of_stdin() if args.password_stdin else None
    return _run(functools.partial(_reset_password, password=password))(settings, args)


async def _reset_password(
    settings: Settings, args: argparse.Namespace, *, password: str | None
) -> int:
    from cms.auth.passwords import generate_password, password_hashing
    from cms.services.account_lifecycle import reset_password

    new_password = password if password is not None else generate_password()
    author, ended = await reset_password(
        args.email,
        password=new_password,
        hashing=password_hashing(settings.hash_concurrency),
        now=datetime.now(UTC),
    )
    if password is None:
        # Shown this once; only its hash is kept.
        print(f"cms: new password for {author.email}: {new_password}")
    print(f"cms: {ended} session(s) of {author.email} ended")
    return 0


async def _user_sessions(settings: Settings, args: argparse.Namespace) -> int:
    from cms.services.account_lifecycle import find_user
    from cms.services.sessions import sessions_of

    author = await find_user(args.email)
    for session in await sessions_of(None, author_id=author.id, now=datetime.now(UTC)).order_by(
        "-id"
    ):
        last_used = session.last_used_at.isoformat() if session.last_used_at else "never"
        print(
            f"{session.id}\t{session.created_at.isoformat()}\t{last_used}\t"
            f"{session.client_address or '-'}\t{session.user_agent or '-'}"
        )
    return 0


async def _user_revoke_session(settings: Settings, args: argparse.Namespace) -> int:
    from cms.services.account_lifecycle import find_user
    from cms.services.sessions import end_tokens, revoke_session

    author = await find_user(args.email)
    now = datetime.now(UTC)
    if args.all:
        ended = await end_tokens(author.id, now=now)
        print(f"cms: {ended} session(s) of {author.email} ended")
        return 0
    await revoke_session(None, session_id=args.id, owner_id=author.id, now=now)
    print(f"cms: session {args.id} of {author.email} ended")
    return 0


class _progress:
    """A progress bar on stderr, fed by ``advance(done, total)`` callbacks."""

    def __init__(self, description: str, *, unit: str) -> None:
        self.bar = tqdm(desc=description, unit=unit, file=sys.stderr, disable=None, leave=False)

    def __enter__(self) -> Callable[[int, int], None]:
        return self.advance

    def advance(self, done: int, total: int) -> None:
        self.bar.total = total
        self.bar.n = done
        self.bar.refresh()

    def __exit__(self, *exc_info: object) -> None:
        self.bar.close()


_DURATION_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def _duration(text: str) -> timedelta:
    """``30d`` as a timedelta; argparse turns a bad value into a usage error (status 2)."""
    number, unit = text[:-1], text[-1:]
    if unit not in _DURATION_UNITS or not number.isdigit():
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an age: give a whole number and a unit (s, m, h, d, w), like 30d"
        )
    return timedelta(**{_DURATION_UNITS[unit]: int(number)})


async def _trash_purge(settings: Settings, args: argparse.Namespace) -> int:
    from cms.services.authoring import purge_trash

    purged = await purge_trash(older_than=args.older_than)
    print(f"cms: {purged} trashed post(s) deleted for good")
    return 0
