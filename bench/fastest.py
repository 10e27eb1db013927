"""The fastest baseline: the headline answered from a schema made for it (``fast_schema``).

One Starlette route, no GraphQL, no ORM, no middleware; the CMS's drivers (aiosqlite, asyncpg).
It answers the same JSON ``data`` as the CMS's headline query, which ``run.py`` checks before
measuring. Two forms of the same read, each engine serving with the one that measured faster
on it (bench/README.md); ``BENCH_FAST_FORM`` picks the other, to measure again:

- ``rows`` (PostgreSQL's): three statements, each one index range (the tag's newest live links
  joined to their posts; the page's tag names; the page's sections), then orjson.
- ``json`` (SQLite's): one statement that builds the page's JSON in the database
  (``json_group_array``/``json_object``; PostgreSQL ``json_agg``). On SQLite this wins because
  the JSON is built in aiosqlite's thread, outside the GIL, with one thread hand-off instead of
  three; on PostgreSQL it measured 0.87-0.88x the ``rows`` form, the work having moved into the
  database's backend on the same cores.

    BENCH_FAST_URL=sqlite:///tmp/w1-fast.sqlite3 uvicorn bench.fastest:app --port 8002
    BENCH_FAST_URL=postgres://postgres@127.0.0.1/db uvicorn bench.fastest:app --port 8002

An unknown tag answers an empty page rather than the CMS's ``"tag": null``: only the
headline's real tag is measured.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Any, Protocol

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bench.serving import PostgresPool, SQLiteConnection, serve, sqlite_path

PAGE = 20

SQLITE_POSTS = """
SELECT p.id, p.title, p.slug, p.author_name
FROM link l JOIN post p ON p.id = l.post_id
WHERE l.tag_id = (SELECT id FROM tag WHERE slug = ?) AND l.published_at <= ?
ORDER BY l.published_at DESC, l.post_id DESC
LIMIT ?
"""
SQLITE_TAGS = "SELECT post_id, name FROM post_tag WHERE post_id IN ({marks})"
SQLITE_SECTIONS = "SELECT post_id, heading, body FROM section WHERE post_id IN ({marks})"

POSTGRES_POSTS = """
SELECT p.id, p.title, p.slug, p.author_name
FROM bench_fast.link l JOIN bench_fast.post p ON p.id = l.post_id
WHERE l.tag_id = (SELECT id FROM bench_fast.tag WHERE slug = $1) AND l.published_at <= $2
ORDER BY l.published_at DESC, l.post_id DESC
LIMIT $3
"""
# ``= ANY($1)`` keeps one prepared statement whatever the page's length.
POSTGRES_TAGS = (
    "SELECT post_id, name FROM bench_fast.post_tag WHERE post_id = ANY($1::int[]) "
    "ORDER BY post_id, name, tag_id"
)
POSTGRES_SECTIONS = (
    "SELECT post_id, heading, body FROM bench_fast.section WHERE post_id = ANY($1::int[]) "
    "ORDER BY post_id, position"
)

# The same page built as JSON by the database, in one statement (the ``json`` form).
SQLITE_JSON = """
SELECT json_group_array(json_object('node', json_object(
    'title', p.title, 'slug', p.slug, 'author', json_object('name', p.author_name),
    'tags', json((SELECT json_group_array(json_object('name', t.name))
                  FROM post_tag t WHERE t.post_id = p.id)),
    'sections', json((SELECT json_group_array(json_object('heading', s.heading, 'body', s.body))
                      FROM section s WHERE s.post_id = p.id)))))
FROM (
    SELECT p.id, p.title, p.slug, p.author_name
    FROM link l JOIN post p ON p.id = l.post_id
    WHERE l.tag_id = (SELECT id FROM tag WHERE slug = ?) AND l.published_at <= ?
    ORDER BY l.published_at DESC, l.post_id DESC
    LIMIT ?
) p
"""
POSTGRES_JSON = """
SELECT coalesce(json_agg(json_build_object('node', json_build_object(
    'title', p.title, 'slug', p.slug, 'author', json_build_object('name', p.author_name),
    'tags', (SELECT coalesce(json_agg(json_build_object('name', t.name)
                                      ORDER BY t.name, t.tag_id), '[]')
             FROM bench_fast.post_tag t WHERE t.post_id = p.id),
    'sections', (SELECT coalesce(json_agg(json_build_object('heading', s.heading, 'body', s.body)
                                          ORDER BY s.position), '[]')
                 FROM bench_fast.section s WHERE s.post_id = p.id)))
    ORDER BY p.published_at DESC, p.id DESC), '[]')::text
FROM (
    SELECT p.id, p.title, p.slug, p.author_name, l.published_at
    FROM bench_fast.link l JOIN bench_fast.post p ON p.id = l.post_id
    WHERE l.tag_id = (SELECT id FROM bench_fast.tag WHERE slug = $1) AND l.published_at <= $2
    ORDER BY l.published_at DESC, l.post_id DESC
    LIMIT $3
) p
"""

Row = tuple[Any, ...]


class Reader(Protocol):
    FASTER: str

    async def open(self) -> None: ...
    async def close(self) -> None: ...
    async def page(self, slug: str) -> tuple[list[Row], list[Row], list[Row]]: ...
    async def edges_json(self, slug: str) -> bytes: ...


class SQLiteReader(SQLiteConnection):
    FASTER = "json"

    async def page(self, slug: str) -> tuple[list[Row], list[Row], list[Row]]:
        # The CMS stores SQLite timestamps as ISO text, which compares in time order.
        now = datetime.now(UTC).isoformat(sep=" ")
        posts = list(await self.db.execute_fetchall(SQLITE_POSTS, (slug, now, PAGE)))
        if not posts:
            return [], [], []
        ids = [row[0] for row in posts]
        marks = ", ".join("?" * len(ids))
        # The tables' keys already order these rows as the response needs them.
        tags = await self.db.execute_fetchall(SQLITE_TAGS.format(marks=marks), ids)
        sections = await self.db.execute_fetchall(SQLITE_SECTIONS.format(marks=marks), ids)
        return [tuple(r) for r in posts], [tuple(r) for r in tags], [tuple(r) for r in sections]

    async def edges_json(self, slug: str) -> bytes:
        now = datetime.now(UTC).isoformat(sep=" ")
        rows = list(await self.db.execute_fetchall(SQLITE_JSON, (slug, now, PAGE)))
        return str(rows[0][0]).encode()


class PostgresReader(PostgresPool):
    FASTER = "rows"

    async def page(self, slug: str) -> tuple[list[Row], list[Row], list[Row]]:
        async with self.pool.acquire() as db:
            posts = await db.fetch(POSTGRES_POSTS, slug, datetime.now(UTC), PAGE)
            if not posts:
                return [], [], []
            ids = [row[0] for row in posts]
            tags = await db.fetch(POSTGRES_TAGS, ids)
            sections = await db.fetch(POSTGRES_SECTIONS, ids)
        return [tuple(r) for r in posts], [tuple(r) for r in tags], [tuple(r) for r in sections]

    async def edges_json(self, slug: str) -> bytes:
        text = await self.pool.fetchval(POSTGRES_JSON, slug, datetime.now(UTC), PAGE)
        return str(text).encode()


def reader(url: str) -> Reader:
    path = sqlite_path(url)
    return PostgresReader(url) if path is None else SQLiteReader(path)


def render(posts: list[Row], tags: list[Row], sections: list[Row]) -> bytes:
    """The CMS's headline ``{"data": ...}`` for one page of rows."""
    nodes: dict[int, dict[str, Any]] = {}
    for post_id, title, slug, author in posts:
        nodes[post_id] = {
            "title": title,
            "slug": slug,
            "author": {"name": author},
            "tags": [],
            "sections": [],
        }
    for post_id, name in tags:
        nodes[post_id]["tags"].append({"name": name})
    for post_id, heading, body in sections:
        nodes[post_id]["sections"].append({"heading": heading, "body": body})
    edges = [{"node": node} for node in nodes.values()]
    return orjson.dumps({"data": {"tag": {"posts": {"edges": edges}}}})


db = reader(os.environ.get("BENCH_FAST_URL", "sqlite://bench-fast.sqlite3"))
FORM = os.environ.get("BENCH_FAST_FORM") or db.FASTER


async def headline(request: Request) -> Response:
    slug = request.query_params.get("tag", "")
    if FORM == "json":
        edges = await db.edges_json(slug)
        body = b'{"data":{"tag":{"posts":{"edges":' + edges + b"}}}}"
        return Response(body, media_type="application/json")
    rows = await db.page(slug)
    return Response(render(*rows), media_type="application/json")


app = serve(Route("/headline", headline), db)
