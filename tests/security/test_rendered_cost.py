"""Stored rendered text counts in the query cost: a section's html may hold 512 KiB."""

from __future__ import annotations

import httpx
import pytest
from graphql import parse

from cms.graphql.analysis import analyse
from cms.graphql.cost import PageSizes, estimate_cost
from cms.graphql.schema import schema
from tests.factories import make_post
from tests.security.conftest import codes

PAGES = PageSizes(default=20, maximum=100)


def estimate(query: str) -> int:
    analysis = analyse(schema._schema, parse(query), None, None)
    assert analysis is not None
    return estimate_cost(analysis, variables=None, pages=PAGES)


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ("body", 20 + 400),
        ("html", 20 + 400 + 400 * 8),
        ("plainText", 20 + 400 + 400 * 8),
        ("html plainText", 20 + 400 + 2 * 400 * 8),
    ],
)
def test_html_and_plain_text_count_by_their_stored_size_bound(fields: str, expected: int) -> None:
    assert estimate(f"{{ posts {{ edges {{ node {{ sections {{ {fields} }} }} }} }} }}") == expected


# Guards CMS_MAX_QUERY_COST for rendered text: 2,100 nodes, but up to 1 GiB of HTML.
async def test_a_page_of_a_hundred_posts_with_their_html_is_refused_before_any_sql(
    client: httpx.AsyncClient,
) -> None:
    query = "{ posts(first: 100) { edges { node { sections { html } } } } }"
    response = await client.post("/graphql", json={"query": query})
    assert codes(response.json()) == ["QUERY_TOO_COMPLEX"]
    assert estimate(query) == 100 + 2000 + 2000 * 8


async def test_the_actual_cost_counts_the_html_returned(client: httpx.AsyncClient) -> None:
    # `&` is escaped to `&amp;`: 30,000 of them make about 146 KiB of HTML, three 64 KiB units.
    await make_post(sections=((None, "&" * 30_000), (None, "short")))
    query = "{ posts { edges { node { sections { html } } } } }"
    response = await client.post("/graphql", json={"query": query, "extensions": {"cost": True}})
    cost = response.json()["extensions"]["cost"]
    assert cost == {"requested": 20 + 400 + 400 * 8, "actual": 1 + 2 + 3 + 1}
