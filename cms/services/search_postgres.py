"""Search on PostgreSQL: ``post_search.document`` (a weighted tsvector under a GIN index),
ranked by ``ts_rank_cd`` and highlighted by ``ts_headline``."""

from __future__ import annotations

from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient

from cms.services.search_syntax import SearchQuery

CONFIG = "english"
# Weights of D (bodies), C (excerpt), B (headings) and A (title), as ts_rank_cd takes them.
# Normalization 1 divides by the log of the document's length, so long posts do not win on
# length alone.
RANK = "ts_rank_cd('{0.05, 0.2, 0.4, 1.0}', ps.document, q.query, 1)"
HEADLINE_OPTIONS = (
    "StartSel=\ue000, StopSel=\ue001, MaxWords=24, MinWords=12, "
    'MaxFragments=2, FragmentDelimiter=" … "'
)
# Snippets come from the sections (headings and bodies in reading order) when they match,
# else from the title and excerpt. ts_headline parses all the text it is given, so it gets
# the part the index holds (see migration 0003: the first 200,000 characters).
SECTIONS_TEXT = (
    "left(coalesce((SELECT string_agg(coalesce(s.heading || E'\\n', '') || s.body, E'\\n' "
    "ORDER BY s.position) FROM section s WHERE s.post_id = p.id), ''), 200000)"
)


class _Params:
    """Numbered placeholders ($1, $2...) after those the visible posts' query already uses."""

    def __init__(self, initial: list[Any]) -> None:
        self.values = list(initial)

    def bind(self, value: Any) -> str:
        self.values.append(value)
        return f"${len(self.values)}"


async def find(
    client: BaseDBAsyncClient,
    query: SearchQuery,
    visible_sql: str,
    visible_params: list[Any],
    *,
    limit: int,
    offset: int,
) -> list[tuple[int, float, str]]:
    params = _Params(visible_params)
    tsquery = query.to_tsquery(params.bind, CONFIG)
    # The page is chosen first; only its rows pay for the (costly) headlines.
    options = params.bind(HEADLINE_OPTIONS)
    # Only constants, placeholders and the visible posts' parameterised query are spliced in.
    sql = (
        f"WITH q AS (SELECT {tsquery} AS query), "  # noqa: S608
        f"page AS (SELECT ps.post_id, {RANK} AS score FROM post_search ps, q "
        f"WHERE ps.document @@ q.query AND ps.post_id IN ({visible_sql}) "
        f"ORDER BY score DESC, ps.post_id LIMIT {params.bind(limit)} "
        f"OFFSET {params.bind(offset)}) "
        "SELECT page.post_id, page.score, CASE WHEN strpos(h.sections, E'\\uE000') > 0 "
        f"THEN h.sections ELSE ts_headline('{CONFIG}', p.title || E'\\n' || p.excerpt, "
        f"q.query, {options}) END AS snippet "
        "FROM page JOIN post p ON p.id = page.post_id CROSS JOIN q, "
        f"LATERAL (SELECT ts_headline('{CONFIG}', {SECTIONS_TEXT}, q.query, {options}) "
        "AS sections) h ORDER BY page.score DESC, page.post_id"
    )
    rows = await client.execute_query_dict(sql, params.values)
    return [(row["post_id"], float(row["score"]), row["snippet"]) for row in rows]


async def count(
    client: BaseDBAsyncClient, query: SearchQuery, visible_sql: str, visible_params: list[Any]
) -> int:
    params = _Params(visible_params)
    tsquery = query.to_tsquery(params.bind, CONFIG)
    # As in find: constants, placeholders and the visible posts' query only.
    sql = (
        f"SELECT count(*) AS hits FROM post_search ps WHERE ps.document @@ {tsquery} "  # noqa: S608
        f"AND ps.post_id IN ({visible_sql})"
    )
    rows = await client.execute_query_dict(sql, params.values)
    return int(rows[0]["hits"])
