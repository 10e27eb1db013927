"""Column values as the standard executor renders them: stored values, global ids, cursors.

Rows come straight from the driver. Each converter first applies the Tortoise field's
``to_python_value`` (the conversion a model instance or ``.values()`` would have made), then
the GraphQL scalar's serialization: ``isoformat()`` for ``DateTime`` (Strawberry's), the
member's name for enums, the value itself for strings and integers, which every driver already
hands back as Python ``str`` and ``int``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from tortoise.fields.data import CharEnumFieldInstance, DatetimeField
from tortoise.models import Model

from cms.graphql.node import to_global_id
from cms.services.pagination import encode_cursor

__all__ = [
    "Converter",
    "cursor_of",
    "global_id",
    "identity",
    "output_converter",
    "python_converter",
]

Converter = Callable[[Any], Any]
Row = dict[str, Any]


def identity(value: Any) -> Any:
    return value


def python_converter(model: type[Model], column: str) -> Converter:
    """Raw driver value -> the Python value a model attribute would hold."""
    field = model._meta.fields_map[column]
    if isinstance(field, DatetimeField | CharEnumFieldInstance):
        return field.to_python_value
    return identity


def output_converter(model: type[Model], column: str) -> Converter:
    """Raw driver value -> the JSON value the standard executor puts in the response."""
    field = model._meta.fields_map[column]
    to_python = field.to_python_value
    if isinstance(field, DatetimeField):

        def datetime_out(value: Any) -> Any:
            return None if value is None else to_python(value).isoformat()

        return datetime_out
    if isinstance(field, CharEnumFieldInstance):

        def enum_out(value: Any) -> Any:
            return None if value is None else to_python(value).name

        return enum_out
    return identity


def global_id(type_name: str) -> Converter:
    def of(pk: Any) -> str:
        return to_global_id(type_name, pk)

    return of


def cursor_of(row: Row, fields: Sequence[tuple[str, Converter]]) -> str:
    """The cursor of ``row`` in an order over ``fields`` (as ``encode_cursor`` makes it)."""
    return encode_cursor([convert(row[name]) for name, convert in fields])
