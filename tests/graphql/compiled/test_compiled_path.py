"""How the compiled path behaves around its answers: statements, switches, what it reports."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import orjson
import pytest

from cms.graphql.compiled import EXECUTIONS
from cms.graphql.compiled.sql import Template, Unplannable, pad
from cms.models import Post
from cms.settings import Settings
from tests.graphql.compiled.conftest import Library, app_client
from tests.helpers import assert_max_queries

HEADLINE = """query Headline($first: Int) {
  tag(slug: "databases") {
    posts(first: $first) {
      edges { node { title slug author { name } tags { name } sections { heading body } } }
    }
  }
}"""


def _count(path: str, reason: str) -> float:
    return EXECUTIONS.labels(path=path, reason=reason)._value.get()


async def _post(client: httpx.AsyncClient, query: str, **variables: Any) -> httpx.Response:
    response = await client.post("/graphql", json={"query": query, "variables": variables})
    assert "errors" not in response.json(), response.text
    return response


@pytest.mark.parametrize("first", [1, 5, 100])
async def test_the_headline_takes_four_statements_whatever_the_page_size(
    compiled_client: httpx.AsyncClient, library: Library, first: int
) -> None:
    before = _count("compiled", "planned")
    async with assert_max_queries(4):
        await _post(compiled_client, HEADLINE, first=first)
    assert _count("compiled", "planned") == before + 1


async def test_nested_connections_take_one_statement_per_level(
    compiled_client: httpx.AsyncClient, library: Library
) -> None:
    query = """{ tags(first: 10) { edges { node { name postCount
        posts(first: 3) { totalCount edges { node { title author { name } tags { slug }
        sections { anchor } } } } } } } }"""
    # tags, post counts, the windowed pages, their counts, then tags and sections.
    async with assert_max_queries(6):
        await _post(compiled_client, query)


async def test_compiled_reads_off_sends_every_operation_to_the_standard_executor(
    settings: Settings, library: Library
) -> None:
    async with app_client(settings, cache=False, compiled_reads=False) as client:
        compiled, disabled = _count("compiled", "planned"), _count("standard", "disabled")
        await _post(client, HEADLINE, first=3)
    assert _count("compiled", "planned") == compiled
    assert _count("standard", "disabled") == disabled + 1


async def test_server_timing_and_cost_name_the_executor(
    settings: Settings, library: Library
) -> None:
    async with app_client(settings, cache=False, debug_timing=True) as client:
        compiled = await _post(client, HEADLINE, first=2)
        standard = await _post(client, '{ node(id: "UG9zdDox") { id } }')
    assert 'exec;desc="compiled"' in compiled.headers["server-timing"]
    assert orjson.loads(compiled.content)["extensions"]["cost"]["execution"] == "compiled"
    assert 'exec;desc="standard"' in standard.headers["server-timing"]


def test_id_lists_are_padded_to_a_power_of_two_with_their_last_id() -> None:
    assert pad([7]) == [7]
    assert pad([1, 2, 3]) == [1, 2, 3, 3]
    assert len(pad(list(range(1, 18)))) == 32


def test_a_template_binds_the_values_of_each_request_into_its_slots() -> None:
    now = datetime(2026, 5, 1, tzinfo=UTC)

    def make(v: Any) -> Any:
        return (
            Post.filter(slug=v["slug"], published_at__lte=v["now"]).limit(v["limit"]).values("id")
        )

    template = Template.build(make, {"slug": "a", "now": now, "limit": 3})
    later = datetime(2026, 6, 1, tzinfo=UTC)
    params = template.bind({"slug": "other", "now": later, "limit": 21})
    assert params == ["other", later, 21]
    assert template.bind({"slug": "a", "now": now, "limit": 3}) == ["a", now, 3]


def test_a_template_refuses_values_tortoise_would_have_converted() -> None:
    def make(v: Any) -> Any:
        return Post.filter(published_at__lte=v["now"]).values("id")

    template = Template.build(make, {"now": datetime(2026, 5, 1, tzinfo=UTC)})
    with pytest.raises(Unplannable):
        template.bind({"now": datetime(2026, 5, 1)})  # naive: Tortoise would make it aware
    with pytest.raises(Unplannable):
        template.bind({"now": "2026-05-01"})  # another type than the shape was built with
