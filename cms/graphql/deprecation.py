"""Deprecating fields and arguments with a sunset date, and telling clients that use them.

Deprecate with :func:`deprecated`, which formats the reason so that people and programs can
read it, and refuses a sunset less than twelve weeks after the deprecation::

    reading_time: int | None = strawberry.field(
        deprecation_reason=deprecated(
            reason="Renamed to say its unit.",
            replacement="readingTimeMinutes",
            since=date(2026, 11, 26),
            sunset=date(2027, 3, 1),
        ),
    )
    # -> "Renamed to say its unit. Use `readingTimeMinutes` instead.
    #     Deprecated: 2026-11-26. Sunset: 2027-03-01."

The same works for ``strawberry.argument(deprecation_reason=...)``. The schema itself is the
record: ``cms schema check`` reads the sunset back from the published schema to decide whether
removing the field is allowed yet (see ``cms.cli.contract``).

At run time :class:`DeprecationTracker` finds the deprecated fields, arguments and enum values
an operation selects (walking the validated document once per distinct query text), and the
response then carries

- ``extensions.deprecations``: ``[{"field": "Post.readingTime", "reason": ..., "sunset":
  "2027-03-01"}]``;
- ``Deprecation: @<unix time>`` (RFC 9745), the earliest deprecation date among them, and
  ``Sunset: <HTTP-date>`` (RFC 8594), the earliest sunset;

and ``cms_graphql_deprecated_field_uses_total{field, client}`` counts each use by the client
named in ``apollographql-client-name`` or ``X-Client-Name``. Enum values and input fields given
through variables are not seen (only the document is walked).
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from email.utils import format_datetime
from typing import TYPE_CHECKING, Any
from weakref import WeakKeyDictionary

from graphql import (
    DocumentNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLSchema,
    TypeInfo,
    TypeInfoVisitor,
    Visitor,
    get_named_type,
    get_operation_ast,
    visit,
)
from strawberry.extensions import SchemaExtension

from cms.observability.metrics import DEPRECATED_FIELD_USES, BoundedLabel
from cms.observability.middleware import client_name, current_request

if TYPE_CHECKING:
    from graphql import ArgumentNode, EnumValueNode, FieldNode, Node

__all__ = [
    "MINIMUM_NOTICE",
    "Deprecation",
    "DeprecationTracker",
    "deprecated",
    "parse_dates",
]

# How long clients get between a deprecation and the removal it announces.
MINIMUM_NOTICE = timedelta(weeks=12)

_DEPRECATED_ON = re.compile(r"\bDeprecated: (\d{4}-\d{2}-\d{2})\.")
_SUNSET_ON = re.compile(r"\bSunset: (\d{4}-\d{2}-\d{2})\.")


def deprecated(*, reason: str, replacement: str | None = None, since: date, sunset: date) -> str:
    """A deprecation reason naming the replacement, the deprecation date and the sunset.

    Raises ValueError (when the schema module is imported) if ``sunset`` is less than
    :data:`MINIMUM_NOTICE` after ``since``, or if ``reason`` is empty.
    """
    if sunset < since + MINIMUM_NOTICE:
        raise ValueError(
            f"a sunset on {sunset.isoformat()} gives clients less than twelve weeks after the "
            f"deprecation on {since.isoformat()}: choose {(since + MINIMUM_NOTICE).isoformat()} "
            "or later"
        )
    text = reason.strip().rstrip(".")
    if not text:
        raise ValueError("say why the field is deprecated: the reason is empty")
    parts = [f"{text}."]
    if replacement:
        parts.append(f"Use `{replacement}` instead.")
    parts.append(f"Deprecated: {since.isoformat()}. Sunset: {sunset.isoformat()}.")
    return " ".join(parts)


def parse_dates(reason: str | None) -> tuple[date | None, date | None]:
    """The (deprecation, sunset) dates written by :func:`deprecated`, where present."""
    if not reason:
        return None, None
    since, sunset = _DEPRECATED_ON.search(reason), _SUNSET_ON.search(reason)
    return (
        date.fromisoformat(since.group(1)) if since else None,
        date.fromisoformat(sunset.group(1)) if sunset else None,
    )


@dataclass(frozen=True)
class Deprecation:
    """One deprecated schema element an operation used, named by its schema coordinate."""

    coordinate: str  # Post.readingTime, Query.posts(tag:), PostOrder.TITLE
    reason: str
    since: date | None
    sunset: date | None

    @classmethod
    def of(cls, coordinate: str, reason: str) -> Deprecation:
        since, sunset = parse_dates(reason)
        return cls(coordinate=coordinate, reason=reason, since=since, sunset=sunset)

    def as_json(self) -> dict[str, str | None]:
        return {
            "field": self.coordinate,
            "reason": self.reason,
            "sunset": self.sunset.isoformat() if self.sunset else None,
        }


class _Collector(Visitor):
    def __init__(self, type_info: TypeInfo) -> None:
        super().__init__()
        self.type_info = type_info
        self.fields: list[str] = []  # names of the fields being walked, innermost last
        self.found: dict[str, Deprecation] = {}

    def enter_field(self, node: FieldNode, *_: Any) -> None:
        self.fields.append(node.name.value)
        field, parent = self.type_info.get_field_def(), self.type_info.get_parent_type()
        if field is not None and parent is not None and field.deprecation_reason is not None:
            self._add(f"{parent.name}.{node.name.value}", field.deprecation_reason)

    def leave_field(self, node: FieldNode, *_: Any) -> None:
        self.fields.pop()

    def enter_argument(self, node: ArgumentNode, *_: Any) -> None:
        if self.type_info.get_directive() is not None:  # @include(if:) and the like
            return
        argument, parent = self.type_info.get_argument(), self.type_info.get_parent_type()
        if argument is not None and parent is not None and argument.deprecation_reason:
            coordinate = f"{parent.name}.{self.fields[-1]}({node.name.value}:)"
            self._add(coordinate, argument.deprecation_reason)

    def enter_enum_value(self, node: EnumValueNode, *_: Any) -> None:
        value = self.type_info.get_enum_value()
        if value is not None and value.deprecation_reason is not None:
            enum = get_named_type(self.type_info.get_input_type())
            self._add(f"{enum.name if enum else '?'}.{node.value}", value.deprecation_reason)

    def _add(self, coordinate: str, reason: str) -> None:
        if coordinate not in self.found:
            self.found[coordinate] = Deprecation.of(coordinate, reason)


def _reachable(document: DocumentNode, operation_name: str | None) -> Iterator[Node]:
    """The operation that runs, then every fragment it spreads, directly or not."""
    operation = get_operation_ast(document, operation_name)
    if operation is None:
        return
    fragments = {
        definition.name.value: definition
        for definition in document.definitions
        if isinstance(definition, FragmentDefinitionNode)
    }
    pending: list[Node] = [operation]
    seen: set[str] = set()

    class Spreads(Visitor):
        def enter_fragment_spread(self, node: FragmentSpreadNode, *_: Any) -> None:
            name = node.name.value
            if name not in seen and name in fragments:
                seen.add(name)
                pending.append(fragments[name])

    while pending:
        node = pending.pop()
        visit(node, Spreads())
        yield node


def find_deprecations(
    schema: GraphQLSchema, document: DocumentNode, operation_name: str | None
) -> tuple[Deprecation, ...]:
    """The deprecated elements the named operation of ``document`` selects, in document order."""
    type_info = TypeInfo(schema)
    collector = _Collector(type_info)
    for node in _reachable(document, operation_name):
        visit(node, TypeInfoVisitor(type_info, collector))
    return tuple(collector.found.values())


class _DocumentCache:
    """The last ``size`` answers of :func:`find_deprecations` per schema, by query text."""

    def __init__(self, size: int = 1024) -> None:
        self.size = size
        self._entries: WeakKeyDictionary[
            GraphQLSchema, OrderedDict[tuple[str, str | None], tuple[Deprecation, ...]]
        ] = WeakKeyDictionary()
        self._lock = threading.Lock()

    def get(
        self,
        schema: GraphQLSchema,
        query: str | None,
        document: DocumentNode,
        operation_name: str | None,
    ) -> tuple[Deprecation, ...]:
        if query is None:
            return find_deprecations(schema, document, operation_name)
        key = (query, operation_name)
        with self._lock:
            entries = self._entries.setdefault(schema, OrderedDict())
            if key in entries:
                entries.move_to_end(key)
                return entries[key]
        found = find_deprecations(schema, document, operation_name)
        with self._lock:
            entries[key] = found
            if len(entries) > self.size:
                entries.popitem(last=False)
        return found


_cache = _DocumentCache()
_client_label = BoundedLabel()


def _http_date(day: date) -> str:
    return format_datetime(datetime(day.year, day.month, day.day, tzinfo=UTC), usegmt=True)


def _unix_time(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp())


def deprecation_headers(used: tuple[Deprecation, ...]) -> dict[str, str]:
    """``Deprecation`` and ``Sunset`` for a response that used these: the earliest dates."""
    headers: dict[str, str] = {}
    since = [d.since for d in used if d.since is not None]
    sunsets = [d.sunset for d in used if d.sunset is not None]
    if since:
        headers["Deprecation"] = f"@{_unix_time(min(since))}"
    if sunsets:
        headers["Sunset"] = _http_date(min(sunsets))
    return headers


class DeprecationTracker(SchemaExtension):
    """Reports the deprecated parts of the schema each executed operation used."""

    used: tuple[Deprecation, ...] = ()

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        if document is not None:
            self.used = _cache.get(
                context.schema._schema, context.query, document, context.operation_name
            )
        if self.used:
            self._announce(context.context)
        yield

    def _announce(self, context: Any) -> None:
        response = getattr(context, "response", None)
        if response is not None:  # None over WebSockets
            response.headers.update(deprecation_headers(self.used))
        record = current_request()
        if record is not None:
            client = record.client
        else:
            request = getattr(context, "request", None)
            client = client_name(request.headers) if request is not None else "unknown"
        label = _client_label(client)
        for deprecation in self.used:
            DEPRECATED_FIELD_USES.labels(field=deprecation.coordinate, client=label).inc()

    def get_results(self) -> dict[str, Any]:
        if not self.used:
            return {}
        return {"deprecations": [deprecation.as_json() for deprecation in self.used]}
