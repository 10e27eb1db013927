"""Statement templates: Tortoise builds each statement shape once, requests only bind values.

Building a query with Tortoise costs about half a millisecond, more than running it. The
compiled path still wants every statement built by the same service code as the resolvers
(``find_posts``, ``Visibility.post_filter``, ``SortKey.beyond``), so that there is one
definition of "visible" and of each filter. A :class:`Template` gets both:

1. the statement is built once with *sentinels* in place of the request's values (the moment
   of the request, slugs, ids, cursor values, limits): distinctive values of the same types;
2. the parameter list Tortoise produced is searched for the sentinels, which become slots;
   every other parameter is a constant of the shape (``'PUBLISHED'``);
3. a request binds its own values into the slots, without Tortoise.

A template is refused (:class:`Unplannable`, and the request falls back to the standard
executor) when Tortoise did not pass a sentinel through unchanged, for example when it made a
naive datetime aware: a slot it cannot find would silently become a constant.

Lists of ids are padded to the next power of two by repeating their last id (harmless inside
``IN (...)``), so that a few templates serve every list length.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from tortoise import connections

__all__ = [
    "Template",
    "TemplateCache",
    "Unplannable",
    "client",
    "pad",
]

Value = int | str | datetime | None
Values = Mapping[str, Value | Sequence[Value]]

_SENTINEL_TEXT = "\x01cms-slot-"
# Positive (LIMIT refuses negatives) and far beyond any id or page size the CMS has.
_SENTINEL_INT_BASE = 1_987_000_000
_SENTINEL_EPOCH = datetime(1111, 1, 1, tzinfo=UTC)


class Unplannable(Exception):
    """Raised when the compiled path cannot answer faithfully: the caller falls back."""


class BuiltQuery(Protocol):
    """What a Tortoise queryset, values, count or exists query offers once built."""

    def sql(self, params_inline: bool = False) -> str: ...


def client() -> Any:
    """The default Tortoise connection (the one every model of the CMS lives on)."""
    return connections.get("default")


def pad(ids: Sequence[int]) -> list[int]:
    """``ids`` (unique, non-empty) padded to a power of two by repeating the last one."""
    size = 1
    while size < len(ids):
        size *= 2
    return [*ids, *([ids[-1]] * (size - len(ids)))]


@dataclass(frozen=True)
class _Slot:
    index: int  # position in the flattened request values


@dataclass(frozen=True)
class Template:
    """A statement with the request's values as slots; ``bind`` makes its parameters."""

    sql: str
    params: tuple[_Slot | Any, ...]
    # The type of each flattened value, as the shape was built with (checked when binding).
    kinds: tuple[type, ...]

    def bind(self, values: Values) -> list[Any]:
        flat = _flatten(values)
        if len(flat) != len(self.kinds):
            raise Unplannable("values do not fit the statement's shape")
        for value, kind in zip(flat, self.kinds, strict=True):
            if type(value) is not kind or (isinstance(value, datetime) and value.tzinfo is None):
                # Tortoise converts naive datetimes; only values it passes through can bind.
                raise Unplannable("a value of another kind than the template's")
        return [flat[p.index] if isinstance(p, _Slot) else p for p in self.params]

    @classmethod
    def build(cls, make: Callable[[Values], BuiltQuery], values: Values) -> Template:
        """Build the statement from sentinels shaped like ``values`` and find its slots."""
        flat = _flatten(values)
        sentinels = [_sentinel(value, index) for index, value in enumerate(flat)]
        query = make(_unflatten(values, sentinels))
        query.sql()
        sql, params = query.query.get_parameterized_sql()  # type: ignore[attr-defined]
        slots: dict[tuple[type, Any], int] = {
            (type(s), s): index for index, s in enumerate(sentinels) if s is not None
        }
        found: set[int] = set()
        built: list[_Slot | Any] = []
        for param in params:
            index = slots.get((type(param), param))
            if index is None:
                if _looks_like_sentinel(param):
                    raise Unplannable("Tortoise changed a value it was given")
                built.append(param)
            else:
                found.add(index)
                built.append(_Slot(index))
        if found != set(slots.values()) or _SENTINEL_TEXT in sql:
            raise Unplannable("a value did not become a statement parameter")
        return cls(sql=sql, params=tuple(built), kinds=tuple(type(v) for v in flat))


def _flatten(values: Values) -> list[Value]:
    flat: list[Value] = []
    for value in values.values():
        if isinstance(value, list | tuple):
            flat.extend(value)
        else:
            flat.append(value)  # type: ignore[arg-type]
    return flat


def _unflatten(values: Values, flat: list[Value]) -> dict[str, Any]:
    rebuilt: dict[str, Any] = {}
    position = 0
    for name, value in values.items():
        if isinstance(value, list | tuple):
            rebuilt[name] = type(value)(flat[position : position + len(value)])
            position += len(value)
        else:
            rebuilt[name] = flat[position]
            position += 1
    return rebuilt


def _sentinel(value: Value, index: int) -> Value:
    if value is None:
        return None
    if isinstance(value, bool):
        raise Unplannable("booleans are not statement values")
    if isinstance(value, int):
        return _SENTINEL_INT_BASE + index
    if isinstance(value, str):
        return f"{_SENTINEL_TEXT}{index}"
    if isinstance(value, datetime):
        # Distinct instants: aware datetimes compare by the instant they name.
        return _SENTINEL_EPOCH + timedelta(seconds=index)
    raise Unplannable(f"no sentinel for {type(value).__name__}")


def _looks_like_sentinel(param: Any) -> bool:
    if isinstance(param, str):
        return _SENTINEL_TEXT in param
    if isinstance(param, datetime):
        return param.year == _SENTINEL_EPOCH.year
    if isinstance(param, int) and not isinstance(param, bool):
        return _SENTINEL_INT_BASE <= param < _SENTINEL_INT_BASE + 100_000
    return False


class TemplateCache:
    """Templates by shape, least recently used first out; ``None`` remembers a refusal."""

    def __init__(self, size: int = 512) -> None:
        self.size = size
        self._entries: OrderedDict[Hashable, Template | None] = OrderedDict()
        self._lock = threading.Lock()

    def get(
        self,
        key: Hashable,
        make: Callable[[Values], BuiltQuery],
        values: Values,
        finish: Callable[[str], str] | None = None,
    ) -> tuple[str, list[Any]]:
        """The SQL and parameters of the statement ``make`` builds, for ``values``.

        ``finish``, if given, rewrites the built SQL once, when the template is made; it must
        keep the parameters' order and depend on nothing that ``key`` does not name.
        """
        shape = (key, *_shape(values))
        with self._lock:
            template = self._entries.get(shape, _MISSING)
            if template is not _MISSING:
                self._entries.move_to_end(shape)
        if template is _MISSING:
            try:
                template = Template.build(make, values)
                if finish is not None:
                    template = replace(template, sql=finish(template.sql))
            except Unplannable:
                template = None
            except Exception as exc:
                # The services refused the shape itself (too many slugs, say): the standard
                # executor reports it. Not remembered, in case it was not about the shape.
                raise Unplannable(f"the statement could not be built: {exc!r}") from exc
            with self._lock:
                self._entries[shape] = template
                while len(self._entries) > self.size:
                    self._entries.popitem(last=False)
        if template is None:
            raise Unplannable("this statement shape has no template")
        assert isinstance(template, Template)  # noqa: S101 - narrowed for mypy
        return template.sql, template.bind(values)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


_MISSING: Any = object()


def _shape(values: Values) -> tuple[Hashable, ...]:
    # Which values are present, their types and list lengths: everything that changes SQL.
    shape: list[Hashable] = []
    for name, value in values.items():
        if isinstance(value, list | tuple):
            shape.append((name, len(value), tuple(type(v) for v in value)))
        else:
            shape.append((name, type(value)))
    return tuple(shape)
