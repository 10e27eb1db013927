"""The per-document analysis: collected once, cached by document and @skip/@include values."""

from __future__ import annotations

import uuid

import strawberry
from graphql import parse

from cms.graphql.analysis import ANALYSES, MAX_DEPTH, MEMO_MAX_CHARS, AnalysisCache, analyse
from cms.graphql.limits import document_limit_errors
from cms.graphql.schema import schema
from tests.conftest import GraphQLRunner


@strawberry.type
class Item:
    name: str = "x"

    @strawberry.field
    def child(self) -> Item:
        return Item()

    @strawberry.field
    def other(self) -> Item:
        return Item()


@strawberry.type
class Query:
    @strawberry.field
    def item(self) -> Item:
        return Item()


toy = strawberry.Schema(query=Query)


def unique(document: str) -> str:
    """``document`` under a name no other test uses, so that the process-wide cache misses."""
    return f"query Q{uuid.uuid4().hex} {document}"


async def test_a_second_request_of_a_document_is_not_analysed_again(
    graphql: GraphQLRunner,
) -> None:
    document = unique("{ posts(first: 2) { edges { node { title } } } }")
    before = ANALYSES.analysed

    for _ in range(2):
        body = await graphql(document)
        assert "errors" not in body, body

    assert ANALYSES.analysed == before + 1


async def test_each_value_of_a_skip_variable_has_its_own_analysis(
    graphql: GraphQLRunner,
) -> None:
    document = unique("($s: Boolean!) { posts { edges { node { title @skip(if: $s) } } } }")
    before = ANALYSES.analysed

    for skip in (True, False, True, False):
        body = await graphql(document, {"s": skip})
        assert "errors" not in body, body

    assert ANALYSES.analysed == before + 2


def test_skip_and_include_decide_what_is_collected() -> None:
    document = parse(
        "query($s: Boolean!, $i: Boolean = true) "
        "{ item { name @skip(if: $s) child @include(if: $i) { name } } }"
    )
    cache = AnalysisCache()
    text = "the same text for all three"

    def keys(variables: dict[str, bool]) -> list[str]:
        analysis = cache.get(toy._schema, text, document, None, variables)
        assert analysis is not None
        return [selection.key for selection in analysis.root[0].below]

    assert keys({"s": False}) == ["name", "child"]  # $i takes its default
    assert keys({"s": True}) == ["child"]
    assert keys({"s": False, "i": False}) == ["name"]
    assert cache.analysed == 3


def test_skip_variables_that_do_not_coerce_give_no_analysis() -> None:
    # Execution refuses such an operation before any resolver runs.
    document = parse("query($s: Boolean!) { item { name @skip(if: $s) } }")
    assert analyse(toy._schema, document, None, {"s": "yes"}) is None
    assert analyse(toy._schema, document, None, {}) is None


def test_a_document_over_the_memo_size_is_analysed_every_time_and_never_kept() -> None:
    text = "{ item { name } }#" + "a" * MEMO_MAX_CHARS
    document = parse(text)
    cache = AnalysisCache()

    first = cache.get(toy._schema, text, document, None, None)
    second = cache.get(toy._schema, text, document, None, None)

    assert first is not None
    assert second is not None
    assert first is not second
    assert cache.analysed == 0


def test_a_small_document_is_analysed_once() -> None:
    text = "{ item { name } }"
    document = parse(text)
    cache = AnalysisCache()

    first = cache.get(toy._schema, text, document, None, None)

    assert cache.get(toy._schema, text, document, None, None) is first
    assert cache.analysed == 1


def test_the_cache_keeps_only_its_size() -> None:
    cache = AnalysisCache(size=2)
    for n in range(3):
        text = f"query Q{n} {{ item {{ name }} }}"
        cache.get(toy._schema, text, parse(text), None, None)
    text = "query Q0 { item { name } }"

    cache.get(toy._schema, text, parse(text), None, None)

    assert cache.analysed == 4  # Q0 was evicted and analysed again


def nested_fragments(levels: int, *, aliased: bool) -> str:
    """Each fragment spreads the next one twice: a response tree of 2 ** levels objects."""
    first, second = ("a: child", "b: child") if aliased else ("child", "other")
    fragments = [
        f"fragment F{n} on Item {{ {first} {{ ...F{n + 1} }} {second} {{ ...F{n + 1} }} }}"
        for n in range(levels)
    ]
    fragments.append(f"fragment F{levels} on Item {{ name }}")
    return "{ item { ...F0 } } " + " ".join(fragments)


# Guards the shared selections: as a tree, these documents would hold 2 ** 40 fields.
def test_fragments_spread_inside_fragments_are_collected_once() -> None:
    analysis = analyse(toy._schema, parse(nested_fragments(40, aliased=False)), None, None)
    assert analysis is not None
    assert analysis.depth == 1 + 40 + 1  # item, 40 levels of child/other, name
    assert analysis.aliases == 0

    aliased = analyse(toy._schema, parse(nested_fragments(40, aliased=True)), None, None)
    assert aliased is not None
    assert aliased.aliases == 2**41 - 2  # two per object, at every level


def test_an_operation_deeper_than_the_analysis_goes_is_refused_whatever_the_setting() -> None:
    levels = MAX_DEPTH + 5
    fragments = " ".join(
        f"fragment F{n} on Item {{ child {{ ...F{n + 1} }} }}" for n in range(levels)
    )
    document = f"{{ item {{ ...F0 }} }} {fragments} fragment F{levels} on Item {{ name }}"
    analysis = analyse(toy._schema, parse(document), None, None)
    assert analysis is not None

    [error] = document_limit_errors(analysis, max_depth=10_000, max_aliases=10)

    assert error.extensions == {"code": "QUERY_TOO_DEEP"}


def test_logins_are_counted_per_field_node_of_a_mutation() -> None:
    login = 'login(input: {email: "a@example.com", password: "p"})'
    document = parse(
        f"mutation {{ a: {login} {{ __typename }} b: {login} {{ __typename }} "
        f"c: {login} @skip(if: true) {{ __typename }} }}"
    )
    analysis = analyse(schema._schema, document, None, None)
    assert analysis is not None
    assert analysis.logins == 2  # the skipped one does not run
