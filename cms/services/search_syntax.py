"""The search box's syntax, parsed once and rendered for each database's full-text engine.

Readers type what they would type into a web search box:

- ``schema migration``: posts with both words (in any field, any order);
- ``"zero downtime"``: the words next to each other, in this order (an unclosed quote runs to
  the end of the query);
- ``migrat*``: a word starting with ``migrat``;
- ``-mysql``: posts without the word (only next to at least one word that is searched for);
- ``postgres OR sqlite``: either side; ``AND`` may be written but is what spaces mean anyway.

Nothing a reader types is ever passed to a query parser as syntax: every word and phrase is
quoted (SQLite FTS5) or bound as a parameter (PostgreSQL). So a stray ``"``, ``*``, ``(`` or
``NEAR(`` cannot make the database fail; a query that holds nothing to search for is
BAD_USER_INPUT, and so is one that is too long.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from cms.errors import InvalidInput

MAX_QUERY_LENGTH = 256
# Words and phrases one query may hold. Each is one more index lookup per row; a prefix term
# (``migrat*``) reads every word it matches, so it weighs PREFIX_WEIGHT terms in a search's cost.
MAX_TERMS = 16
PREFIX_WEIGHT = 4
FIELD = "query"

# A term counts only if it holds a letter or a digit: the engines drop everything else, and a
# term that tokenizes to nothing would make an AND match nothing at all.
_WORD = re.compile(r"[^\W_]+")


@dataclass(frozen=True)
class Term:
    """One word or quoted phrase, as the reader wrote it."""

    text: str
    phrase: bool = False
    prefix: bool = False
    negated: bool = False


@dataclass(frozen=True)
class SearchQuery:
    """Groups joined by OR; within a group every positive term must match, no negated one."""

    groups: tuple[tuple[Term, ...], ...]

    @property
    def weight(self) -> int:
        """How much work matching the query is per result row: prefix terms weigh more."""
        return sum(PREFIX_WEIGHT if term.prefix else 1 for group in self.groups for term in group)

    def to_fts5(self) -> str:
        """An FTS5 MATCH expression in which every term is a quoted string."""
        rendered = []
        for group in self.groups:
            positive = " AND ".join(_fts5_term(t) for t in group if not t.negated)
            negative = "".join(f" NOT {_fts5_term(t)}" for t in group if t.negated)
            rendered.append(f"({positive}{negative})")
        return " OR ".join(rendered)

    def to_tsquery(self, bind: Callable[[str], str], config: str) -> str:
        """A PostgreSQL tsquery expression; ``bind(value)`` returns a parameter placeholder."""
        rendered = []
        for group in self.groups:
            parts = []
            for term in group:
                if term.prefix:
                    # Only letters and digits reach to_tsquery, so none of its operators can.
                    words = _WORD.findall(term.text)
                    pattern = " <-> ".join([*words[:-1], f"{words[-1]}:*"])
                    sql = f"to_tsquery('{config}', {bind(pattern)})"
                else:
                    # Quoted, websearch_to_tsquery reads the term as a phrase, with no operators.
                    sql = f"websearch_to_tsquery('{config}', {bind(_quoted(term.text))})"
                parts.append(f"!!{sql}" if term.negated else sql)
            rendered.append("(" + " && ".join(parts) + ")")
        return "(" + " || ".join(rendered) + ")"


def parse_query(text: str) -> SearchQuery:
    """The reader's ``text`` as a query; BAD_USER_INPUT when it holds nothing to search for."""
    _check(text)
    groups: list[tuple[Term, ...]] = []
    current: list[Term] = []
    for piece in _tokens(text):
        if piece == "OR":
            groups.append(tuple(current))
            current = []
        elif isinstance(piece, Term):
            current.append(piece)
    groups.append(tuple(current))
    kept = tuple(group for group in groups if group)
    terms = [term for group in kept for term in group]
    if not terms:
        raise InvalidInput("The query has no words to search for.", field=FIELD)
    if len(terms) > MAX_TERMS:
        raise InvalidInput(
            f"The query has {len(terms)} words or phrases; at most {MAX_TERMS} are allowed.",
            field=FIELD,
        )
    if any(all(term.negated for term in group) for group in kept):
        raise InvalidInput(
            "An excluded word (`-word`) needs a word to search for next to it.", field=FIELD
        )
    return SearchQuery(kept)


def _check(text: str) -> None:
    if len(text) > MAX_QUERY_LENGTH:
        raise InvalidInput(f"The query is longer than {MAX_QUERY_LENGTH} characters.", field=FIELD)
    if "\x00" in text:
        raise InvalidInput("The query contains a NUL character.", field=FIELD)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InvalidInput("The query is not valid Unicode text.", field=FIELD) from exc


def _tokens(text: str) -> list[Term | str | None]:
    """Terms and the OR/AND keywords, in order; None stands for a term without a word."""
    tokens: list[Term | str | None] = []
    position = 0
    while position < len(text):
        char = text[position]
        if char.isspace():
            position += 1
            continue
        negated = char == "-"
        start = position + 1 if negated else position
        if text.startswith('"', start):
            end = text.find('"', start + 1)
            end = len(text) if end == -1 else end
            tokens.append(_term(text[start + 1 : end], phrase=True, negated=negated))
            position = end + 1
            continue
        end = start
        while end < len(text) and not text[end].isspace() and text[end] != '"':
            end += 1
        word = text[start:end]
        position = end
        if word in {"OR", "AND"} and not negated:
            tokens.append(word)
        else:
            prefix = word.endswith("*")
            tokens.append(_term(word.rstrip("*"), prefix=prefix, negated=negated))
    return tokens


def _term(
    text: str, *, phrase: bool = False, prefix: bool = False, negated: bool = False
) -> Term | None:
    if not _WORD.search(text):
        return None
    return Term(text=text, phrase=phrase, prefix=prefix, negated=negated)


def _fts5_term(term: Term) -> str:
    # Inside double quotes FTS5 reads no operators; a quote is written twice.
    quoted = '"' + term.text.replace('"', '""') + '"'
    return quoted + ("*" if term.prefix else "")


def _quoted(text: str) -> str:
    return '"' + text.replace('"', " ") + '"'
