"""What identifies a cacheable response: the normalized document, operation and variables.

Two requests share a cache entry only when they would execute the same operation with the
same variables for the same audience. Documents are compared after graphql-core's
``strip_ignored_characters`` (whitespace, commas and comments do not matter), and variables
as canonical JSON (key order does not matter).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

import orjson
from graphql import strip_ignored_characters
from graphql.error import GraphQLError

# Bump when the layout of cached bodies changes, so that old entries in a shared Redis are
# never read by a newer release.
FORMAT_VERSION = "1"


# Documents longer than this are normalized every time, so that the memo stays small.
_MEMO_MAX_CHARS = 16_384


def normalize_document(query: str) -> str:
    """``query`` without insignificant characters; unchanged if it does not even lex."""
    return _normalized(query) if len(query) <= _MEMO_MAX_CHARS else _normalize(query)


def _normalize(query: str) -> str:
    try:
        return strip_ignored_characters(query)
    except GraphQLError:
        return query


_normalized = lru_cache(maxsize=512)(_normalize)


def response_key(
    query: str,
    *,
    operation_name: str | None,
    variables: Mapping[str, Any] | None,
    audience: str,
) -> str:
    """A short, stable key for one operation's response as ``audience`` would see it."""
    material = orjson.dumps(
        [FORMAT_VERSION, audience, normalize_document(query), operation_name, variables or {}],
        option=orjson.OPT_SORT_KEYS,
    )
    return hashlib.sha256(material).hexdigest()


def strong_etag(body: bytes) -> str:
    """A strong validator for exactly these bytes."""
    return '"' + hashlib.blake2b(body, digest_size=16).hexdigest() + '"'


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """Whether an ``If-None-Match`` header names ``etag`` (weak comparison, as RFC 9110 asks)."""
    if not if_none_match:
        return False
    if if_none_match.strip() == "*":
        return True
    opaque = etag.removeprefix("W/")
    return any(
        candidate.strip().removeprefix("W/") == opaque for candidate in if_none_match.split(",")
    )
