"""Checks on client-supplied values, made before a value reaches a query."""

from __future__ import annotations

from cms.errors import InvalidInput

MAX_SLUG_LENGTH = 80


def check_slug_length(value: str | None, *, field: str) -> None:
    """No stored slug is longer than the column holds, so a longer one is a client mistake."""
    if value is not None and len(value) > MAX_SLUG_LENGTH:
        raise InvalidInput(f"`{field}` is longer than {MAX_SLUG_LENGTH} characters.", field=field)
