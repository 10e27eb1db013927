"""Large documents are parsed and validated afresh, never kept in the per-process memos.

Both memos are keyed by what a client sends (the text, the parsed tree), so a signed-in client,
whose body may reach a megabyte, could otherwise park 128 one-megabyte entries in each.
"""

from __future__ import annotations

import httpx
import pytest
from graphql import DocumentNode

from cms.graphql.guard import PARSE_MEMO_MAX_CHARS, ParserCache, ValidationCache
from cms.models import Role
from tests.conftest import SignIn


def consulted(cache_info: object) -> int:
    return int(cache_info.hits + cache_info.misses)  # type: ignore[attr-defined]


def memo_lookups() -> tuple[int, int]:
    parse = ParserCache().cached_parse_document.cache_info()
    validate = ValidationCache().cached_validate_document.cache_info()
    return consulted(parse), consulted(validate)


async def test_a_document_over_the_memo_size_is_not_memoized(
    client: httpx.AsyncClient, sign_in: SignIn
) -> None:
    session = await sign_in(Role.AUTHOR)
    headers = {"Authorization": f"Bearer {session.token}"}
    query = "{ __typename }#" + "a" * PARSE_MEMO_MAX_CHARS
    before = memo_lookups()

    for _ in range(3):
        response = await client.post("/graphql", json={"query": query}, headers=headers)
        assert response.json() == {"data": {"__typename": "Query"}}

    assert memo_lookups() == before


async def test_a_small_document_is_memoized(client: httpx.AsyncClient) -> None:
    before = memo_lookups()

    response = await client.post("/graphql", json={"query": "{ __typename }"})

    assert response.json() == {"data": {"__typename": "Query"}}
    assert memo_lookups() == (before[0] + 1, before[1] + 1)


# Guards the validation memo's key: the document's text, not its tree, whose hash walks it all.
async def test_the_validation_memo_does_not_hash_the_document(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    query = "{ posts(first: 1) { totalCount } }"
    await client.post("/graphql", json={"query": query})

    def refuse(_: object) -> int:
        raise AssertionError("the document was hashed")

    monkeypatch.setattr(DocumentNode, "__hash__", refuse)
    response = await client.post("/graphql", json={"query": query})

    assert "errors" not in response.json()
