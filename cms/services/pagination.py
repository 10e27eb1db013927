"""Keyset pagination over Tortoise querysets, shared by every list in the API.

A page is asked for Relay-style (``first``/``after`` or ``last``/``before``). Rows are ordered
by a sort key that always ends with the primary key, so a cursor (the sort-key values of one
row) marks a stable position even when many rows share a timestamp or a title.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

import orjson
from tortoise.expressions import Expression, Q
from tortoise.models import Model
from tortoise.queryset import QuerySet

from cms.errors import InvalidInput
from cms.services.inputs import is_storable_id, is_storable_instant

ModelT = TypeVar("ModelT", bound=Model)
CursorValue = str | int | datetime

_CURSOR_PREFIX = "cursor:v1:"


@dataclass(frozen=True)
class SortKey:
    """An ordering of rows: (field, descending) pairs, the last of which must be unique."""

    fields: tuple[tuple[str, bool], ...]
    # Computed columns the fields may name, e.g. a timestamp that is never null. Each is
    # annotated onto the queryset before it is filtered or ordered.
    computed: tuple[tuple[str, Expression], ...] = ()

    def order_by(self, *, reverse: bool = False) -> list[str]:
        return [("-" if desc != reverse else "") + name for name, desc in self.fields]

    def prepare(self, queryset: QuerySet[ModelT]) -> QuerySet[ModelT]:
        """``queryset`` with this key's computed columns, ready to filter and order on."""
        return queryset.annotate(**dict(self.computed)) if self.computed else queryset

    def values_of(self, row: Model) -> list[CursorValue]:
        return [_row_value(getattr(row, name), name) for name, _ in self.fields]

    def beyond(self, values: Sequence[CursorValue], *, backwards: bool) -> Q:
        """Rows strictly after ``values`` in this order (strictly before if ``backwards``)."""
        condition: Q | None = None
        for index, (name, desc) in enumerate(self.fields):
            lookup = "lt" if desc != backwards else "gt"
            conditions: dict[str, Any] = {self.fields[i][0]: values[i] for i in range(index)}
            conditions[f"{name}__{lookup}"] = values[index]
            step = Q(**conditions)
            condition = step if condition is None else condition | step
        assert condition is not None, "a sort key has at least one field"  # noqa: S101
        return condition


@dataclass(frozen=True)
class PageRequest:
    """Validated pagination arguments."""

    size: int
    after: list[CursorValue] | None = None
    before: list[CursorValue] | None = None
    backwards: bool = False  # True for last/before: take the page from the end.

    @classmethod
    def from_args(
        cls,
        *,
        first: int | None,
        after: str | None,
        last: int | None,
        before: str | None,
        default_size: int,
        max_size: int,
        sort_key: SortKey,
    ) -> PageRequest:
        if first is not None and last is not None:
            raise InvalidInput("Pass either `first` or `last`, not both.", field="first")
        for name, value in (("first", first), ("last", last)):
            if value is not None and not 0 <= value <= max_size:
                raise InvalidInput(
                    f"`{name}` must be between 0 and {max_size}, got {value}.", field=name
                )
        return cls(
            size=last if last is not None else first if first is not None else default_size,
            after=decode_cursor(after, sort_key, "after") if after is not None else None,
            before=decode_cursor(before, sort_key, "before") if before is not None else None,
            backwards=last is not None,
        )


@dataclass
class Page(Generic[ModelT]):
    rows: list[ModelT]
    cursors: list[str]
    has_next_page: bool
    has_previous_page: bool


@dataclass(frozen=True)
class PageSpec:
    """A validated ``PageRequest`` in hashable form, so that it can be part of a loader key."""

    size: int
    after: tuple[CursorValue, ...] | None = None
    before: tuple[CursorValue, ...] | None = None
    backwards: bool = False

    @classmethod
    def of(cls, request: PageRequest) -> PageSpec:
        return cls(
            size=request.size,
            after=tuple(request.after) if request.after is not None else None,
            before=tuple(request.before) if request.before is not None else None,
            backwards=request.backwards,
        )


def encode_cursor(values: Sequence[CursorValue]) -> str:
    encoded = [v.isoformat() if isinstance(v, datetime) else v for v in values]
    return base64.urlsafe_b64encode((_CURSOR_PREFIX).encode() + orjson.dumps(encoded)).decode()


def decode_cursor(cursor: str, sort_key: SortKey, argument: str) -> list[CursorValue]:
    """The sort-key values in ``cursor``; BAD_USER_INPUT if it was not made for this order."""
    invalid = InvalidInput(f"`{argument}` is not a valid cursor for this list.", field=argument)
    try:
        raw = base64.urlsafe_b64decode(cursor.encode("ascii"))
    except (binascii.Error, UnicodeEncodeError, ValueError) as exc:
        raise invalid from exc
    if not raw.startswith(_CURSOR_PREFIX.encode()):
        raise invalid
    try:
        values = orjson.loads(raw[len(_CURSOR_PREFIX) :])
    except orjson.JSONDecodeError as exc:
        raise invalid from exc
    if not isinstance(values, list) or len(values) != len(sort_key.fields):
        raise invalid
    try:
        return [
            _typed(value, name) for value, (name, _) in zip(values, sort_key.fields, strict=True)
        ]
    except (TypeError, ValueError) as exc:
        raise invalid from exc


def _row_value(value: Any, field: str) -> CursorValue:
    # SQLite hands computed timestamps back as text, not as the datetime a column would give.
    if field.endswith("_at") and isinstance(value, str):
        return datetime.fromisoformat(value)
    return value  # type: ignore[no-any-return]


def _typed(value: Any, field: str) -> CursorValue:
    # Timestamps travel as ISO strings; the field name says which values are timestamps.
    if field.endswith("_at"):
        if not isinstance(value, str):
            raise TypeError(field)
        instant = datetime.fromisoformat(value)
        if not is_storable_instant(instant):
            raise ValueError(field)
        return instant
    if field == "id":
        if not isinstance(value, int) or isinstance(value, bool):
            raise TypeError(field)
        if not is_storable_id(value):
            raise ValueError(field)
        return value
    if not isinstance(value, str):
        raise TypeError(field)
    return value


async def paginate(
    queryset: QuerySet[ModelT], sort_key: SortKey, page: PageRequest
) -> Page[ModelT]:
    """One page of ``queryset`` in ``sort_key`` order, with Relay's page info.

    Reads ``size + 1`` rows to learn whether more follow; the opposite direction is checked
    with an existence query only when the page starts from a cursor.
    """
    queryset = sort_key.prepare(queryset)
    window = queryset
    if page.after is not None:
        window = window.filter(sort_key.beyond(page.after, backwards=False))
    if page.before is not None:
        window = window.filter(sort_key.beyond(page.before, backwards=True))

    rows: list[ModelT] = []
    more = False
    if page.size > 0:
        fetched = await window.order_by(*sort_key.order_by(reverse=page.backwards)).limit(
            page.size + 1
        )
        more = len(fetched) > page.size
        rows = list(fetched[: page.size])
    if page.backwards:
        rows.reverse()

    cursor_before_window = page.before if page.backwards else page.after
    beyond_window = False
    if cursor_before_window is not None:
        beyond_window = await queryset.filter(
            sort_key.beyond(cursor_before_window, backwards=not page.backwards)
        ).exists()

    # Forward: "more" is what follows and the cursor says what precedes; backwards mirrors it.
    has_next, has_previous = (beyond_window, more) if page.backwards else (more, beyond_window)
    return Page(
        rows=rows,
        cursors=[encode_cursor(sort_key.values_of(row)) for row in rows],
        has_next_page=has_next,
        has_previous_page=has_previous,
    )
