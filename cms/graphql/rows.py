"""Object types built from model rows: the fields named alike are read, not listed.

Most of an object type's fields are a model's columns under the same name (``Post.title`` is
``posts.title``, as ``cms.graphql.declarations`` declares every data field of a stored type);
``from_row`` reads those, from a model instance or from a mapping of its columns, and a type's
``from_model`` passes only what it computes (the global id, a conversion, a per-request flag). A
field with a default is left to it: it is no column (``Post.past`` is set by the time-travel
read only). Fields with a resolver are not built with the object, so they are not read either.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

__all__ = ["column", "from_row"]

T = TypeVar("T", bound="DataclassInstance")


def column(row: object, name: str) -> Any:
    """The column ``name`` of ``row``: a model instance, or a mapping of column names."""
    return row[name] if isinstance(row, Mapping) else getattr(row, name)


def from_row(cls: type[T], row: object, **computed: object) -> T:
    """``cls`` with ``computed``, and each other field without a default read from ``row``."""
    # One check per row, not per field: this runs for every row of every list.
    get = row.__getitem__ if isinstance(row, Mapping) else row.__getattribute__
    read = {name: get(name) for name in _required(cls) if name not in computed}
    return cls(**read, **computed)


@functools.cache
def _required(cls: type[DataclassInstance]) -> tuple[str, ...]:
    # Read once per type: from_model runs for every row of every list.
    return tuple(
        field.name
        for field in dataclasses.fields(cls)
        if field.init
        and field.default is dataclasses.MISSING
        and field.default_factory is dataclasses.MISSING
    )
