"""Checks on client-supplied values, made before a value reaches a query."""

from __future__ import annotations

from datetime import UTC, datetime

from cms.errors import InvalidInput

MAX_SLUG_LENGTH = 80
# Every id column is an IntField: a 32-bit signed integer on every database. A larger key
# cannot name a row, and binding it makes the driver fail the whole query.
MAX_ID = 2**31 - 1


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


def is_storable_id(pk: int) -> bool:
    """Whether ``pk`` could be the primary key of a row."""
    return 1 <= pk <= MAX_ID


def is_storable_instant(value: datetime) -> bool:
    """Whether ``value`` falls within years 1 to 9999 once converted to UTC.

    Drivers convert aware datetimes to UTC before binding them, and Python's datetime cannot
    leave those years: "9999-12-31T23:59:59-14:00" is valid ISO 8601, yet in year 10000 in UTC.
    """
    if value.tzinfo is None:
        return True
    try:
        value.astimezone(UTC)
    except OverflowError:
        return False
    return True


def check_instant(value: datetime | None, *, field: str) -> None:
    if value is not None and not is_storable_instant(value):
        raise InvalidInput(
            f"`{field}` must fall within the years 1 to 9999 once converted to UTC.", field=field
        )
