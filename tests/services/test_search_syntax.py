"""Parsing the search box and rendering it safely for FTS5 and tsquery; highlighting."""

from __future__ import annotations

import pytest

from cms.errors import InvalidInput
from cms.services.search import decode_cursor, encode_cursor, highlight
from cms.services.search_syntax import Term, parse_query


def test_words_phrases_prefixes_and_exclusions_become_terms() -> None:
    query = parse_query('kelp "sea otter" migrat* -whale')

    assert query.groups == (
        (
            Term("kelp"),
            Term("sea otter", phrase=True),
            Term("migrat", prefix=True),
            Term("whale", negated=True),
        ),
    )


def test_or_splits_groups_and_and_is_what_spaces_mean() -> None:
    assert parse_query("a AND b OR c").groups == ((Term("a"), Term("b")), (Term("c"),))


def test_every_term_is_quoted_for_fts5() -> None:
    query = parse_query('NEAR(x) "a ""b" c* -d')

    assert query.to_fts5() == '("NEAR(x)" AND "a " AND "b" AND "c"* NOT "d")'


def test_every_term_is_a_bound_parameter_for_postgres() -> None:
    values: list[str] = []

    def bind(value: str) -> str:
        values.append(value)
        return f"${len(values)}"

    sql = parse_query("a-b OR c* -d").to_tsquery(bind, "english")

    assert sql == (
        "((websearch_to_tsquery('english', $1)) || "
        "(to_tsquery('english', $2) && !!websearch_to_tsquery('english', $3)))"
    )
    assert values == ['"a-b"', "c:*", '"d"']


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("", id="empty"),
        pytest.param("   ", id="blank"),
        pytest.param('"', id="quote"),
        pytest.param("*", id="star"),
        pytest.param("AND OR", id="keywords"),
        pytest.param("😀 \\ ()", id="no-word"),
        pytest.param("-kelp", id="only-excluded"),
        pytest.param("kelp OR -whale", id="group-only-excluded"),
        pytest.param("x" * 257, id="too-long"),
        pytest.param("a " * 17, id="too-many-words"),
        pytest.param("kelp\x00", id="nul"),
        pytest.param("kelp\ud800", id="surrogate"),
    ],
)
def test_queries_with_nothing_safe_to_search_for_are_bad_user_input(text: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_query(text)
    assert caught.value.field == "query"


def test_highlight_escapes_text_and_marks_matches() -> None:
    assert highlight("a <b> & \ue000kelp\ue001!") == "a &lt;b&gt; &amp; <mark>kelp</mark>!"


def test_highlight_balances_stray_markers() -> None:
    assert highlight("\ue001x\ue000y\ue000z") == "x<mark>yz</mark>"


def test_a_cursor_decodes_only_for_its_own_search() -> None:
    cursor = encode_cursor(7, "abc")

    assert decode_cursor(cursor, "abc") == 7
    with pytest.raises(InvalidInput):
        decode_cursor(cursor, "other")
