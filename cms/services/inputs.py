"""Checks on client-supplied values, made before a value reaches a query."""

from __future__ import annotations

from cms.errors import InvalidInput

MAX_SLUG_LENGTH = 80


def check_text(value: str | None, *, field: str, max_length: int) -> None:
    """Reject text no column can hold: too long, or with NUL (which PostgreSQL refuses)."""
    if value is None:
        return
    if len(value) > max_length:
        raise InvalidInput(f"`{field}` is longer than {max_length} characters.", field=field)
    if "\x00" in value:
        raise InvalidInput(f"`{field}` contains a NUL character.", field=field)


def check_slug(value: str | None, *, field: str) -> None:
    """No stored slug is longer than the column holds, so a longer one is a client mistake."""
    check_text(value, field=field, max_length=MAX_SLUG_LENGTH)
