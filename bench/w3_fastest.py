"""The W3 baseline: the seven list reads of ``scale.py`` answered from ``w3_schema``'s tables.

One Starlette route, no GraphQL, no ORM; the CMS's drivers (aiosqlite, asyncpg). ``GET
/w3?read=<name>&variables=<json>`` answers the same JSON ``data`` as the CMS's document for that
read (``scale.py`` checks it before timing), cursors included, and the time it spent in a
``Server-Timing: total;dur=`` header, as the CMS reports its own.

    BENCH_W3_URL=sqlite:///tmp/w3-fast.sqlite3 uvicorn bench.w3_fastest:app --port 8003
"""

from __future__ import annotations

import base64
import os
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, Protocol

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bench.serving import PostgresPool, SQLiteConnection, serve, sqlite_path

PAGE = 20
CURSOR_PREFIX = b"cursor:v1:"  # the CMS's cursor format: this prefix, then the values as JSON
Data = dict[str, Any]


def cursor(*values: Any) -> str:
    return base64.urlsafe_b64encode(CURSOR_PREFIX + orjson.dumps(values)).decode()


def cursor_values(text: str) -> list[Any]:
    values: list[Any] = orjson.loads(base64.urlsafe_b64decode(text)[len(CURSOR_PREFIX) :])
    return values


def edges(rows: list[Any], *, by_title: bool = False) -> list[Data]:
    """Edges of ``(id, title, slug, published_at)`` rows, with the CMS's cursors."""
    return [
        {
            "cursor": cursor(title, post_id) if by_title else cursor(iso(published), post_id),
            "node": {"title": title, "slug": slug},
        }
        for post_id, title, slug, published in rows
    ]


def iso(value: Any) -> str:
    # SQLite keeps "2025-02-13 01:14:33+00:00"; asyncpg hands back an aware datetime.
    return value.replace(" ", "T", 1) if isinstance(value, str) else value.isoformat()


class Reader(Protocol):
    async def open(self) -> None: ...
    async def close(self) -> None: ...
    async def tag_page(self, tag: str) -> Data: ...
    async def newest(self) -> Data: ...
    async def page6(self, after: str) -> Data: ...
    async def title(self) -> Data: ...
    async def author_page(self, author: str) -> Data: ...
    async def tags(self) -> Data: ...
    async def authors(self) -> Data: ...


class SQLiteReader(SQLiteConnection):
    async def rows(self, sql: str, *params: Any) -> list[Any]:
        return list(await self.db.execute_fetchall(sql, params))

    @staticmethod
    def now() -> str:
        return datetime.now(UTC).isoformat(sep=" ")

    async def tag_page(self, tag: str) -> Data:
        now = self.now()
        (found,) = await self.rows(
            "SELECT id, name, listed - (SELECT count(*) FROM tag_link "
            "WHERE tag_id = tag.id AND published_at > ?) FROM tag WHERE slug = ?",
            now,
            tag,
        )
        tag_id, name, count = found
        page = await self.rows(
            "SELECT p.id, p.title, p.slug, l.published_at FROM tag_link l "
            "JOIN post p ON p.id = l.post_id WHERE l.tag_id = ? AND l.published_at <= ? "
            "ORDER BY l.published_at DESC, l.post_id DESC LIMIT ?",
            tag_id,
            now,
            PAGE,
        )
        posts = {"totalCount": count, "edges": edges(page)}
        return {"tag": {"name": name, "postCount": count, "posts": posts}}

    async def newest(self) -> Data:
        now = self.now()
        page = await self.rows(
            "SELECT id, title, slug, published_at FROM newest WHERE published_at <= ? "
            "ORDER BY published_at DESC, id DESC LIMIT ?",
            now,
            PAGE,
        )
        ((count,),) = await self.rows(
            "SELECT listed - (SELECT count(*) FROM newest WHERE published_at > ?) FROM site", now
        )
        return {"posts": {"totalCount": count, "edges": edges(page)}}

    async def page6(self, after: str) -> Data:
        published, post_id = cursor_values(after)
        page = await self.rows(
            "SELECT id, title, slug, published_at FROM newest "
            "WHERE published_at <= ? AND (published_at, id) < (?, ?) "
            "ORDER BY published_at DESC, id DESC LIMIT ?",
            self.now(),
            published.replace("T", " ", 1),
            post_id,
            PAGE,
        )
        return {"posts": {"edges": edges(page)}}

    async def title(self) -> Data:
        page = await self.rows(
            "SELECT id, title, slug, published_at FROM by_title WHERE published_at <= ? "
            "ORDER BY title, id LIMIT ?",
            self.now(),
            PAGE,
        )
        return {"posts": {"edges": edges(page, by_title=True)}}

    async def author_page(self, author: str) -> Data:
        now = self.now()
        ((author_id, name, count),) = await self.rows(
            "SELECT id, name, listed - (SELECT count(*) FROM author_link "
            "WHERE author_id = author.id AND published_at > ?) FROM author WHERE slug = ?",
            now,
            author,
        )
        page = await self.rows(
            "SELECT post_id, title, slug, published_at FROM author_link "
            "WHERE author_id = ? AND published_at <= ? "
            "ORDER BY published_at DESC, post_id DESC LIMIT ?",
            author_id,
            now,
            PAGE,
        )
        posts = {"totalCount": count, "edges": edges(page)}
        return {"author": {"name": name, "posts": posts}}

    async def tags(self) -> Data:
        rows = await self.rows(
            "SELECT name, listed - (SELECT count(*) FROM tag_link "
            "WHERE tag_id = tag.id AND published_at > ?) FROM tag ORDER BY name, id LIMIT 100",
            self.now(),
        )
        nodes = [{"node": {"name": name, "postCount": count}} for name, count in rows]
        return {"tags": {"edges": nodes}}

    async def authors(self) -> Data:
        now = self.now()
        authors = await self.rows(
            "SELECT id, name, listed - (SELECT count(*) FROM author_link "
            "WHERE author_id = author.id AND published_at > ?) FROM author "
            "ORDER BY name, id LIMIT 20",
            now,
        )
        # One statement for every author's five newest: a LIMITed range per author.
        ranges = " UNION ALL ".join(
            "SELECT * FROM (SELECT author_id, title FROM author_link WHERE author_id = ? "
            "AND published_at <= ? ORDER BY published_at DESC, post_id DESC LIMIT 5)"
            for _ in authors
        )
        params = [value for author_id, _, _ in authors for value in (author_id, now)]
        titles: dict[int, list[Data]] = {author_id: [] for author_id, _, _ in authors}
        for author_id, title in await self.rows(ranges, *params):
            titles[author_id].append({"node": {"title": title}})
        nodes = [
            {"node": {"name": name, "posts": {"totalCount": count, "edges": titles[author_id]}}}
            for author_id, name, count in authors
        ]
        return {"authors": {"edges": nodes}}


class PostgresReader(PostgresPool):
    async def rows(self, sql: str, *params: Any) -> list[Any]:
        return list(await self.pool.fetch(sql, *params))

    async def tag_page(self, tag: str) -> Data:
        now = datetime.now(UTC)
        tag_id, name, count = (
            await self.rows(
                "SELECT id, name, listed - (SELECT count(*) FROM tag_link "
                "WHERE tag_id = tag.id AND published_at > $1) FROM tag WHERE slug = $2",
                now,
                tag,
            )
        )[0]
        page = await self.rows(
            "SELECT p.id, p.title, p.slug, l.published_at FROM tag_link l "
            "JOIN post p ON p.id = l.post_id WHERE l.tag_id = $1 AND l.published_at <= $2 "
            "ORDER BY l.published_at DESC, l.post_id DESC LIMIT $3",
            tag_id,
            now,
            PAGE,
        )
        posts = {"totalCount": count, "edges": edges(page)}
        return {"tag": {"name": name, "postCount": count, "posts": posts}}

    async def newest(self) -> Data:
        now = datetime.now(UTC)
        page = await self.rows(
            "SELECT id, title, slug, published_at FROM newest WHERE published_at <= $1 "
            "ORDER BY published_at DESC, id DESC LIMIT $2",
            now,
            PAGE,
        )
        count = (
            await self.rows(
                "SELECT listed - (SELECT count(*) FROM newest WHERE published_at > $1) FROM site",
                now,
            )
        )[0][0]
        return {"posts": {"totalCount": count, "edges": edges(page)}}

    async def page6(self, after: str) -> Data:
        published, post_id = cursor_values(after)
        page = await self.rows(
            "SELECT id, title, slug, published_at FROM newest "
            "WHERE published_at <= $1 AND (published_at, id) < ($2, $3) "
            "ORDER BY published_at DESC, id DESC LIMIT $4",
            datetime.now(UTC),
            datetime.fromisoformat(published),
            post_id,
            PAGE,
        )
        return {"posts": {"edges": edges(page)}}

    async def title(self) -> Data:
        page = await self.rows(
            "SELECT id, title, slug, published_at FROM by_title WHERE published_at <= $1 "
            "ORDER BY title, id LIMIT $2",
            datetime.now(UTC),
            PAGE,
        )
        return {"posts": {"edges": edges(page, by_title=True)}}

    async def author_page(self, author: str) -> Data:
        now = datetime.now(UTC)
        author_id, name, count = (
            await self.rows(
                "SELECT id, name, listed - (SELECT count(*) FROM author_link "
                "WHERE author_id = author.id AND published_at > $1) FROM author WHERE slug = $2",
                now,
                author,
            )
        )[0]
        page = await self.rows(
            "SELECT post_id, title, slug, published_at FROM author_link "
            "WHERE author_id = $1 AND published_at <= $2 "
            "ORDER BY published_at DESC, post_id DESC LIMIT $3",
            author_id,
            now,
            PAGE,
        )
        posts = {"totalCount": count, "edges": edges(page)}
        return {"author": {"name": name, "posts": posts}}

    async def tags(self) -> Data:
        rows = await self.rows(
            "SELECT name, listed - (SELECT count(*) FROM tag_link "
            "WHERE tag_id = tag.id AND published_at > $1) FROM tag ORDER BY name, id LIMIT 100",
            datetime.now(UTC),
        )
        nodes = [{"node": {"name": name, "postCount": count}} for name, count in rows]
        return {"tags": {"edges": nodes}}

    async def authors(self) -> Data:
        now = datetime.now(UTC)
        # The twenty authors, each with a LATERAL range of its five newest posts.
        rows = await self.rows(
            "SELECT a.id, a.name, a.listed - (SELECT count(*) FROM author_link "
            "WHERE author_id = a.id AND published_at > $1), p.title "
            "FROM (SELECT * FROM author ORDER BY name, id LIMIT 20) a "
            "LEFT JOIN LATERAL (SELECT title, published_at, post_id FROM author_link "
            "WHERE author_id = a.id AND published_at <= $1 "
            "ORDER BY published_at DESC, post_id DESC LIMIT 5) p ON true "
            "ORDER BY a.name, a.id, p.published_at DESC, p.post_id DESC",
            now,
        )
        nodes: dict[int, Data] = {}
        for author_id, name, count, title in rows:
            node = nodes.setdefault(
                author_id, {"name": name, "posts": {"totalCount": count, "edges": []}}
            )
            if title is not None:
                node["posts"]["edges"].append({"node": {"title": title}})
        return {"authors": {"edges": [{"node": node} for node in nodes.values()]}}


def reader(url: str) -> Reader:
    path = sqlite_path(url)
    return PostgresReader(url, search_path="bench_w3_fast") if path is None else SQLiteReader(path)


db = reader(os.environ.get("BENCH_W3_URL", "sqlite://w3-fast.sqlite3"))
READS: dict[str, Callable[..., Awaitable[Data]]] = {
    "tag_page": db.tag_page,
    "newest": db.newest,
    "page6": db.page6,
    "title": db.title,
    "author_page": db.author_page,
    "tags": db.tags,
    "authors": db.authors,
}


async def w3(request: Request) -> Response:
    started = time.perf_counter()
    read = READS[request.query_params["read"]]
    variables = orjson.loads(request.query_params.get("variables", "{}"))
    body = orjson.dumps({"data": await read(**variables)})
    total = (time.perf_counter() - started) * 1000
    return Response(
        body, media_type="application/json", headers={"Server-Timing": f"total;dur={total:.3f}"}
    )


app = serve(Route("/w3", w3), db)
