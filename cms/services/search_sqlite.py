"""Search on SQLite: the FTS5 table ``post_search``, ranked by ``bm25`` with column weights."""

from __future__ import annotations

from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient

from cms.services.search_syntax import SearchQuery

# bm25 weights of the columns title, excerpt, headings, body (the table's column order).
WEIGHTS = "10.0, 2.0, 4.0, 1.0"
# Snippets: up to 24 tokens around the matches, with the match markers search.MATCH_START and
# MATCH_END. From the bodies when they match (column 3), else from the best matching column.
_MARKERS = "char(57344), char(57345), '…', 24"
SNIPPET = (
    f"CASE WHEN instr(snippet(post_search, 3, {_MARKERS}), char(57344)) > 0 "
    f"THEN snippet(post_search, 3, {_MARKERS}) ELSE snippet(post_search, -1, {_MARKERS}) END"
)


async def find(
    client: BaseDBAsyncClient,
    query: SearchQuery,
    visible_sql: str,
    visible_params: list[Any],
    *,
    limit: int,
    offset: int,
) -> list[tuple[int, float, str]]:
    # bm25 is lower for better matches; ranks are reported negated, so that higher is better.
    # "+rowid" keeps the visibility test out of FTS5's plan: given "rowid IN (...)", FTS5
    # would run the MATCH once per visible post, a hundred times slower than filtering after.
    # The page is chosen first and only its rows pay for snippets, hence MATCH twice.
    # Placeholders are positional, bound in the order they appear in the text.
    # Only constants, placeholders and the visible posts' parameterised query are spliced in.
    sql = (
        f"WITH visible(id) AS ({visible_sql}), "  # noqa: S608
        f"page(id, score) AS (SELECT rowid, -bm25(post_search, {WEIGHTS}) FROM post_search "
        "WHERE post_search MATCH ? AND +rowid IN (SELECT id FROM visible) "
        "ORDER BY 2 DESC, 1 LIMIT ? OFFSET ?) "
        f"SELECT page.id, page.score, {SNIPPET} AS snippet "
        "FROM post_search JOIN page ON page.id = post_search.rowid "
        "WHERE post_search MATCH ? ORDER BY page.score DESC, page.id"
    )
    match = query.to_fts5()
    rows = await client.execute_query_dict(sql, [*visible_params, match, limit, offset, match])
    return [(row["id"], float(row["score"]), row["snippet"]) for row in rows]


async def count(
    client: BaseDBAsyncClient, query: SearchQuery, visible_sql: str, visible_params: list[Any]
) -> int:
    # As in find: constants, placeholders and the visible posts' query only.
    sql = (
        f"WITH visible(id) AS ({visible_sql}) "  # noqa: S608
        "SELECT count(*) AS hits FROM post_search WHERE post_search MATCH ? "
        "AND +post_search.rowid IN (SELECT id FROM visible)"
    )
    rows = await client.execute_query_dict(sql, [*visible_params, query.to_fts5()])
    return int(rows[0]["hits"])
