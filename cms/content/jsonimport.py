"""``cms import FILE.json``: restore a JSON export into an empty database.

Everything is checked before anything is written, and every problem is reported with the JSON
path of the value at fault (``$.posts[3].sections[1].body: ...``):

1. the file is JSON and matches the format (``cms.content.jsonformat``);
2. references hold: ids are unique per table, slugs per table, emails among authors, anchors
   within a post and versions among a post's revisions; every ``author_id``, ``editor_id``
   and tag id names a row of the file;
3. the database is empty (no author, tag, post or revision): a restore does not merge.

Then one transaction writes every row with its id, so that global ids, revision snapshots and
links made from them stay valid. Imported accounts have no password: set one before signing in.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from pydantic import ValidationError
from tortoise import connections
from tortoise.transactions import in_transaction

from cms.content.jsonformat import FORMAT, ExportDocument, PostRecord
from cms.errors import Conflict, InvalidInput
from cms.models import Author, Post, PostTag, Revision, RevisionBody, Section, Tag
from cms.rendering.workers import render_bodies
from cms.services.revision_store import split_history

Progress = Callable[[int, int], None]
"""Called as ``progress(done, total)`` after each batch of posts."""

BATCH_SIZE = 500
# Every table a restore writes, in the order it writes them.
TABLES = ("author", "tag", "post", "section", "post_tag", "revision_body", "revision")


@dataclass(frozen=True, slots=True)
class Problem:
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


class ExportInvalid(InvalidInput):
    """Raised when a file is not a valid export; ``problems`` lists every one found."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(f"the file is not a valid export ({len(problems)} problem(s))")
        self.problems = problems


def looks_like_json(head: bytes) -> bool:
    """Whether a file starting with ``head`` is meant as JSON (its first non-blank is ``{``)."""
    return head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{")


def parse_export(raw: bytes) -> ExportDocument:
    """The validated document in ``raw``; ExportInvalid listing every problem otherwise."""
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise ExportInvalid([Problem("$", f"not valid JSON: {exc}")]) from exc
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ExportInvalid([Problem("$.format", f"not a {FORMAT!r} file")])
    problems: list[Problem] = []
    document: ExportDocument | None = None
    try:
        document = ExportDocument.model_validate_json(raw, strict=True)
    except ValidationError as exc:
        problems += [
            Problem(json_path(error["loc"]), error["msg"])
            for error in exc.errors(include_url=False)
        ]
    # Reference checks read the raw data, so that they run even when some record is malformed.
    problems += check_references(data)
    if problems or document is None:
        raise ExportInvalid(problems)
    return document


def json_path(location: Iterable[int | str]) -> str:
    path = "$"
    for part in location:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


def check_references(data: dict[str, Any]) -> list[Problem]:
    """Uniqueness and references across records; well-typed values only (see parse_export)."""
    problems: list[Problem] = []
    authors = _records(data, "authors")
    tags = _records(data, "tags")
    posts = _records(data, "posts")
    author_ids = _unique(problems, authors, "id", "authors")
    _unique(problems, authors, "slug", "authors")
    _unique(problems, authors, "email", "authors")
    tag_ids = _unique(problems, tags, "id", "tags")
    _unique(problems, tags, "slug", "tags")
    _unique(problems, posts, "id", "posts")
    _unique(problems, posts, "slug", "posts")
    sections = [
        (f"$.posts[{i}].sections[{j}]", section)
        for i, post in posts
        for j, section in _records(post, "sections")
    ]
    revisions = [
        (f"$.posts[{i}].revisions[{j}]", revision)
        for i, post in posts
        for j, revision in _records(post, "revisions")
    ]
    _unique_at(problems, sections, "id", "section")
    _unique_at(problems, revisions, "id", "revision")

    for i, post in posts:
        where = f"$.posts[{i}]"
        if _is_id(post.get("author_id")) and post["author_id"] not in author_ids:
            problems.append(
                Problem(f"{where}.author_id", f"no author has the id {post['author_id']}")
            )
        post_tags = post.get("tags")
        if isinstance(post_tags, list):
            seen: set[int] = set()
            for k, tag_id in enumerate(post_tags):
                if not _is_id(tag_id):
                    continue
                if tag_id not in tag_ids:
                    problems.append(Problem(f"{where}.tags[{k}]", f"no tag has the id {tag_id}"))
                elif tag_id in seen:
                    problems.append(Problem(f"{where}.tags[{k}]", f"tag {tag_id} is listed twice"))
                seen.add(tag_id)
        for key, field in (("sections", "anchor"), ("revisions", "version")):
            located = [(f"{where}.{key}[{j}]", record) for j, record in _records(post, key)]
            _unique_at(problems, located, field, f"{key.removesuffix('s')} of this post")
        for j, revision in _records(post, "revisions"):
            editor = revision.get("editor_id")
            if _is_id(editor) and editor not in author_ids:
                problems.append(
                    Problem(f"{where}.revisions[{j}].editor_id", f"no author has the id {editor}")
                )
    return problems


@dataclass(frozen=True, slots=True)
class RestoreReport:
    """Rows per table that were written (or, in a dry run, would be)."""

    counts: dict[str, int]
    dry_run: bool

    def __str__(self) -> str:
        rows = ", ".join(f"{count} {table}" for table, count in self.counts.items())
        return ("would import " if self.dry_run else "imported ") + rows


async def restore(
    document: ExportDocument, *, dry_run: bool = False, progress: Progress | None = None
) -> RestoreReport:
    """Write ``document`` into the empty database in one transaction (nothing if ``dry_run``)."""
    counts = {
        "author": len(document.authors),
        "tag": len(document.tags),
        "post": len(document.posts),
        "section": sum(len(post.sections) for post in document.posts),
        "post_tag": sum(len(post.tags) for post in document.posts),
        "revision": sum(len(post.revisions) for post in document.posts),
    }
    await _require_empty()
    if dry_run:
        return RestoreReport(counts=counts, dry_run=True)
    async with in_transaction():
        await _require_empty()
        await Author.bulk_create(
            (
                Author(
                    id=a.id,
                    name=a.name,
                    slug=a.slug,
                    email=a.email,
                    bio=a.bio,
                    role=a.role,
                    is_active=a.is_active,
                    created_at=a.created_at,
                    password_hash=None,
                )
                for a in document.authors
            ),
            batch_size=BATCH_SIZE,
        )
        await Tag.bulk_create(
            (
                Tag(id=t.id, name=t.name, slug=t.slug, description=t.description)
                for t in document.tags
            ),
            batch_size=BATCH_SIZE,
        )
        total = len(document.posts)
        for start in range(0, total, BATCH_SIZE):
            await _write_posts(document.posts[start : start + BATCH_SIZE])
            if progress is not None:
                progress(min(start + BATCH_SIZE, total), total)
        await _continue_sequences()
    return RestoreReport(counts=counts, dry_run=False)


async def _write_posts(posts: list[PostRecord]) -> None:
    await Post.bulk_create(
        Post(
            id=p.id,
            title=p.title,
            slug=p.slug,
            excerpt=p.excerpt,
            status=p.status,
            published_at=p.published_at,
            created_at=p.created_at,
            version=p.version,
            deleted_at=p.deleted_at,
            author_id=p.author_id,
        )
        for p in posts
    )
    # ``updated_at`` is stamped with the current time on every model save, bulk ones included;
    # a queryset update writes the given value. Posts saved together share a value, so this
    # takes a few statements, not one per post.
    by_moment: dict[datetime, list[int]] = defaultdict(list)
    for p in posts:
        by_moment[p.updated_at].append(p.id)
    for moment, ids in by_moment.items():
        await Post.filter(id__in=ids).update(updated_at=moment)
    placed = [(p, position, s) for p in posts for position, s in enumerate(p.sections)]
    rendered = await render_bodies(
        [s.body for _, _, s in placed],
        fields=[f"post {p.id}: sections[{position}].body" for p, position, _ in placed],
    )
    await Section.bulk_create(
        Section(
            id=s.id,
            post_id=p.id,
            position=position,
            heading=s.heading,
            anchor=s.anchor,
            body=s.body,
            html=html,
            plain_text=plain_text,
        )
        for (p, position, s), (html, plain_text) in zip(placed, rendered, strict=True)
    )
    await PostTag.bulk_create(
        PostTag(post_id=p.id, tag_id=tag_id) for p in posts for tag_id in p.tags
    )
    # Revisions store section bodies apart, once per post and content (revision_store).
    bodies: list[RevisionBody] = []
    revisions: list[Revision] = []
    for p in posts:
        history = sorted(p.revisions, key=lambda r: r.version)
        for r, (stored, new, added) in zip(
            history, split_history(r.snapshot for r in history), strict=True
        ):
            bodies.extend(RevisionBody(post_id=p.id, digest=d, body=b) for d, b in new.items())
            revisions.append(
                Revision(
                    id=r.id,
                    post_id=p.id,
                    version=r.version,
                    created_at=r.created_at,
                    editor_id=r.editor_id,
                    mutation=r.mutation,
                    snapshot=stored.fields,
                    sections=stored.sections,
                    stored_bytes=added,
                )
            )
    await RevisionBody.bulk_create(bodies, batch_size=BATCH_SIZE)
    await Revision.bulk_create(revisions, batch_size=BATCH_SIZE)


async def _require_empty() -> None:
    for model in (Author, Tag, Post, Revision):
        count = await model.all().count()
        if count:
            raise Conflict(
                f"a JSON export is restored into an empty database only, but the "
                f"{model._meta.db_table} table has {count} row(s)"
            )


async def _continue_sequences() -> None:
    """Make PostgreSQL's id sequences continue after the ids the restore wrote."""
    client = connections.get("default")
    if client.capabilities.dialect != "postgres":
        return  # SQLite's AUTOINCREMENT already continues after the largest id.
    for table in TABLES:
        await client.execute_query(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
            f"coalesce(max(id), 1), max(id) IS NOT NULL) FROM {table}"
        )


def _records(container: Any, key: str) -> list[tuple[int, dict[str, Any]]]:
    values = container.get(key) if isinstance(container, dict) else None
    if not isinstance(values, list):
        return []
    return [(index, value) for index, value in enumerate(values) if isinstance(value, dict)]


def _is_id(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _hashable(value: Any) -> bool:
    return isinstance(value, str) or _is_id(value)


def _unique(
    problems: list[Problem], records: list[tuple[int, dict[str, Any]]], field: str, table: str
) -> set[Any]:
    located = [(f"$.{table}[{index}]", record) for index, record in records]
    return _unique_at(problems, located, field, table.removesuffix("s"))


def _unique_at(
    problems: list[Problem], located: list[tuple[str, dict[str, Any]]], field: str, kind: str
) -> set[Any]:
    """The values of ``field``; each repeat is a problem at the record that repeats it."""
    seen: set[Any] = set()
    for where, record in located:
        value = record.get(field)
        if not _hashable(value):
            continue
        if value in seen:
            problems.append(
                Problem(f"{where}.{field}", f"another {kind} has the {field} {value!r}")
            )
        seen.add(value)
    return seen
