"""Full-text search over posts: ranked hits with highlighted snippets, one page at a time.

Each post is indexed as four fields: its title, its excerpt, its section headings and its
section bodies (see ``cms/migrations/0003_search.py``: database triggers keep the index in
step with every write). A title match weighs most, then headings, then the excerpt, then
bodies. The engine is SQLite's FTS5 (``bm25``) or PostgreSQL's ``tsvector`` (``ts_rank_cd``);
both stem English words, so ``index`` finds ``indexes``. Ranks compare hits of one search
only: higher is better, and the scale differs between the two databases.

Only posts the viewer may read are searched (``cms.services.visibility``), narrowed by the
same criteria as every post list.

Pages use offset cursors, not keyset ones. A rank is a float that the engine recomputes on each
query, and it depends on the whole collection (every write shifts every post's score a little),
so a keyset position "after rank r" would not mark a stable place anyway; an offset at least
pages predictably. A cursor carries a fingerprint of its search, so one made for another query
or filter is BAD_USER_INPUT rather than a silently wrong page.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import html
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from tortoise import connections
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.queryset import QuerySet

from cms.errors import InvalidInput
from cms.models import Post
from cms.services import search_postgres, search_sqlite
from cms.services.posts import PostCriteria, find_posts
from cms.services.search_syntax import SearchQuery, parse_query
from cms.services.visibility import Visibility

# Snippets come back from the engine with matches between these two private-use characters,
# which no markup means anything by; they become <mark> tags once the rest is escaped.
MATCH_START = "\ue000"
MATCH_END = "\ue001"

_CURSOR_PREFIX = "search:v1:"


@dataclass(frozen=True)
class SearchHit:
    post: Post
    rank: float
    # HTML: the matching fragment, escaped, with every match inside <mark>...</mark>.
    snippet: str
    cursor: str


@dataclass(frozen=True)
class SearchResults:
    hits: list[SearchHit]
    has_next_page: bool
    has_previous_page: bool
    count: Callable[[], Awaitable[int]]


class Engine(Protocol):
    """A database's full-text engine (``search_sqlite`` and ``search_postgres`` are two).

    ``visible_sql`` selects the ids of the posts the search may return, with placeholders for
    ``visible_params``. ``find`` returns (post id, rank, snippet with match markers) triples.
    """

    async def find(
        self,
        client: BaseDBAsyncClient,
        query: SearchQuery,
        visible_sql: str,
        visible_params: list[Any],
        *,
        limit: int,
        offset: int,
    ) -> list[tuple[int, float, str]]: ...

    async def count(
        self,
        client: BaseDBAsyncClient,
        query: SearchQuery,
        visible_sql: str,
        visible_params: list[Any],
    ) -> int: ...


async def search_posts(
    visibility: Visibility,
    *,
    query: str,
    criteria: PostCriteria,
    first: int | None,
    after: str | None,
    default_size: int,
    max_size: int,
) -> SearchResults:
    """One page of the visible posts matching ``query``, best first (ties: lower id first)."""
    parsed = parse_query(query)
    size = default_size if first is None else first
    if not 0 <= size <= max_size:
        raise InvalidInput(f"`first` must be between 0 and {max_size}, got {size}.", field="first")
    fingerprint = _fingerprint(query, criteria)
    offset = 0 if after is None else decode_cursor(after, fingerprint) + 1
    visible_sql, visible_params = _visible_ids(find_posts(visibility, criteria))
    client = connections.get("default")
    engine = _engine(client)

    raw = await engine.find(
        client, parsed, visible_sql, visible_params, limit=size + 1, offset=offset
    )
    more = len(raw) > size
    raw = raw[:size]
    posts = {post.id: post for post in await Post.filter(id__in=[post_id for post_id, _, _ in raw])}
    hits = [
        SearchHit(
            post=posts[post_id],
            rank=rank,
            snippet=highlight(snippet),
            cursor=encode_cursor(offset + index, fingerprint),
        )
        for index, (post_id, rank, snippet) in enumerate(raw)
        # A post deleted between the two reads simply drops out of this page.
        if post_id in posts
    ]

    async def count() -> int:
        return await engine.count(client, parsed, visible_sql, visible_params)

    return SearchResults(hits=hits, has_next_page=more, has_previous_page=offset > 0, count=count)


def highlight(snippet: str) -> str:
    """``snippet`` HTML-escaped, with the engine's match markers turned into <mark> tags.

    Tags are always balanced, even if the indexed text itself held a marker character.
    """
    out: list[str] = []
    inside = False
    for part in _split_markers(snippet):
        if part == MATCH_START:
            if not inside:
                out.append("<mark>")
                inside = True
        elif part == MATCH_END:
            if inside:
                out.append("</mark>")
                inside = False
        else:
            out.append(html.escape(part, quote=False))
    if inside:
        out.append("</mark>")
    return "".join(out)


def _split_markers(text: str) -> list[str]:
    parts: list[str] = []
    start = 0
    for index, char in enumerate(text):
        if char in (MATCH_START, MATCH_END):
            parts.extend([text[start:index], char])
            start = index + 1
    parts.append(text[start:])
    return [part for part in parts if part]


def encode_cursor(position: int, fingerprint: str) -> str:
    raw = f"{_CURSOR_PREFIX}{fingerprint}:{position}"
    return base64.urlsafe_b64encode(raw.encode()).decode()


def decode_cursor(cursor: str, fingerprint: str) -> int:
    """The position in ``cursor``; BAD_USER_INPUT unless it was made for this very search."""
    invalid = InvalidInput("`after` is not a valid cursor for this search.", field="after")
    try:
        raw = base64.urlsafe_b64decode(cursor.encode("ascii")).decode()
    except (binascii.Error, UnicodeError, ValueError) as exc:
        raise invalid from exc
    prefix = f"{_CURSOR_PREFIX}{fingerprint}:"
    position = raw.removeprefix(prefix)
    if position == raw or not position.isascii() or not position.isdigit():
        raise invalid
    # Far past any real result count, yet small enough for any database's OFFSET.
    if len(position) > 9:
        raise invalid
    return int(position)


def _fingerprint(query: str, criteria: PostCriteria) -> str:
    digest = hashlib.sha256(f"{query}\x00{criteria!r}".encode()).hexdigest()
    return digest[:16]


def _visible_ids(queryset: QuerySet[Post]) -> tuple[str, list[Any]]:
    ids = queryset.values_list("id", flat=True)
    # ``sql()`` builds the query; the built query then gives its SQL with placeholders and the
    # values to bind, so that no value is ever spliced into the SQL text.
    ids.sql()
    sql, params = ids.query.get_parameterized_sql()
    return sql, list(params)


def _engine(client: BaseDBAsyncClient) -> Engine:
    dialect = client.capabilities.dialect
    if dialect == "sqlite":
        return search_sqlite
    if dialect == "postgres":
        return search_postgres
    raise NotImplementedError(f"full-text search supports SQLite and PostgreSQL, not {dialect}")


__all__ = [
    "MATCH_END",
    "MATCH_START",
    "Engine",
    "SearchHit",
    "SearchQuery",
    "SearchResults",
    "highlight",
    "search_posts",
]
