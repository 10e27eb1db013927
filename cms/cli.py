"""The ``cms`` command: serve, migrate, import, generate, demo and schema.

Every command reads the same ``CMS_*`` settings as the app. Exit status 0 means success, 1 a
failure that was reported on stderr, 2 a usage error.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Callable, Coroutine, Sequence
from pathlib import Path
from typing import Any

from tqdm import tqdm

from cms.errors import CMSError
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

    importer = commands.add_parser("import", help="import posts from a plain-text export")
    importer.add_argument("path", type=Path)
    importer.add_argument("--author", help="slug of the author of every imported post")
    importer.add_argument("--status", choices=("published", "draft"), default="published")
    importer.set_defaults(handler=_run(_import))

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
    # Worker processes build the app from the environment, so pass the overrides through it.
    for name, value in (("CMS_HOST", args.host), ("CMS_PORT", args.port)):
        if value is not None:
            os.environ[name] = str(value)
    uvicorn.run(
        "cms.app:create_app",
        factory=True,
        host=args.host or settings.host,
        port=args.port or settings.port,
        workers=workers,
        log_level=settings.log_level,
    )
    return 0


async def _migrate(settings: Settings, args: argparse.Namespace) -> int:
    from cms.db import apply_migrations

    await apply_migrations(settings)
    print("cms: database is up to date")
    return 0


async def _import(settings: Settings, args: argparse.Namespace) -> int:
    from cms.content.importer import import_plaintext
    from cms.content.plaintext import PlainTextError, parse_plaintext
    from cms.models import PostStatus

    try:
        parsed = parse_plaintext(args.path.read_text(encoding="utf-8"))
    except OSError as exc:
        print(f"cms: cannot read {args.path}: {exc.strerror}", file=sys.stderr)
        return 1
    except PlainTextError as exc:
        for line, message in exc.problems:
            print(f"{args.path}:{line}: {message}", file=sys.stderr)
        print(f"cms: nothing imported ({len(exc.problems)} problem(s))", file=sys.stderr)
        return 1
    status = PostStatus.PUBLISHED if args.status == "published" else PostStatus.DRAFT
    with _progress("importing", unit="post") as advance:
        report = await import_plaintext(
            parsed, author_slug=args.author, status=status, progress=advance
        )
    print(
        f"cms: {report.created} post(s) created, {report.updated} updated, "
        f"{report.unchanged} unchanged"
    )
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
    from cms.graphql.schema import schema

    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(schema.as_str() + "\n", encoding="utf-8")
    print(f"cms: wrote {args.out}")
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
