"""The bare baseline: the headline data with three hand-written SQL statements and orjson.

The floor the CMS is measured against: a minimal Starlette app with one route, no GraphQL, no
ORM, no middleware, reading the same database (SQLite through aiosqlite, PostgreSQL through
asyncpg, the CMS's own drivers) and answering the same JSON as the CMS's headline query:
the 20 newest live posts of a tag with title, slug, author name, tag names and sections.

    BENCH_DATABASE_URL=sqlite:///tmp/w1.sqlite3 uvicorn bench.baseline:app --port 8001
"""

from __future__ import annotations

import os
from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bench.serving import PostgresPool, SQLiteConnection, serve, sqlite_path

DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "sqlite://bench.sqlite3")
PAGE = 20

POSTS = """
SELECT p.id, p.title, p.slug, a.name AS author_name
FROM post p
JOIN post_tag pt ON pt.post_id = p.id
JOIN tag t ON t.id = pt.tag_id
JOIN author a ON a.id = p.author_id
WHERE t.slug = {0} AND p.status IN ('PUBLISHED', 'SCHEDULED') AND p.published_at <= {1}
  AND p.deleted_at IS NULL
ORDER BY p.published_at DESC, p.id DESC
LIMIT {2}
"""
TAGS = """
SELECT pt.post_id, t.name FROM post_tag pt JOIN tag t ON t.id = pt.tag_id
WHERE pt.post_id IN ({ids}) ORDER BY t.name, t.id
"""
SECTIONS = """
SELECT post_id, heading, body FROM section WHERE post_id IN ({ids}) ORDER BY post_id, position
"""


class SQLite(SQLiteConnection):
    async def rows(self, sql: str, params: list[Any]) -> list[Any]:
        return list(await self.db.execute_fetchall(sql, params))

    def placeholders(self, count: int, start: int = 1) -> list[str]:
        return ["?"] * count

    def now(self) -> Any:
        # Tortoise stores SQLite timestamps as ISO text, which compares in time order.
        return datetime.now(UTC).isoformat(sep=" ")


class Postgres(PostgresPool):
    async def rows(self, sql: str, params: list[Any]) -> list[Any]:
        return list(await self.pool.fetch(sql, *params))

    def placeholders(self, count: int, start: int = 1) -> list[str]:
        return [f"${n}" for n in range(start, start + count)]

    def now(self) -> Any:
        return datetime.now(UTC)


def _database(url: str) -> SQLite | Postgres:
    path = sqlite_path(url)
    return Postgres(url) if path is None else SQLite(path)


db = _database(DATABASE_URL)


async def headline(request: Request) -> Response:
    slug = request.query_params.get("tag", "")
    p = db.placeholders(3)
    posts = await db.rows(POSTS.format(*p), [slug, db.now(), PAGE])
    ids = [row[0] for row in posts]
    tags: defaultdict[int, list[dict[str, str]]] = defaultdict(list)
    sections: defaultdict[int, list[dict[str, Any]]] = defaultdict(list)
    if ids:
        marks = ", ".join(db.placeholders(len(ids)))
        for post_id, name in await db.rows(TAGS.format(ids=marks), ids):
            tags[post_id].append({"name": name})
        for post_id, heading, body in await db.rows(SECTIONS.format(ids=marks), ids):
            sections[post_id].append({"heading": heading, "body": body})
    edges = [
        {
            "node": {
                "title": title,
                "slug": post_slug,
                "author": {"name": author},
                "tags": tags[post_id],
                "sections": sections[post_id],
            }
        }
        for post_id, title, post_slug, author in posts
    ]
    body = {"data": {"tag": {"posts": {"edges": edges}}}}
    return Response(orjson.dumps(body), media_type="application/json")


app = serve(Route("/headline", headline), db)
