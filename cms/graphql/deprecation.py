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

At run time :class:`DeprecationTracker` reads the deprecated fields, arguments and enum values
an operation uses from its :mod:`cms.graphql.analysis` (made once per document and
``@skip``/``@include`` values; fields left out by them are not used), and the response then
carries

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
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from email.utils import format_datetime
from typing import Any

from strawberry.extensions import SchemaExtension

from cms.graphql.analysis import Analysis, analysis_for
from cms.graphql.context import Context, context_of
from cms.observability.metrics import DEPRECATED_FIELD_USES, BoundedLabel
from cms.observability.middleware import client_name, current_request

__all__ = [
    "MINIMUM_NOTICE",
    "Deprecation",
    "DeprecationTracker",
    "deprecated",
    "deprecations_used",
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


def deprecations_used(analysis: Analysis) -> tuple[Deprecation, ...]:
    """The deprecated elements the analysed operation uses, in the order it uses them."""
    return analysis.derived(_deprecations)


def _deprecations(analysis: Analysis) -> tuple[Deprecation, ...]:
    return tuple(Deprecation.of(coordinate, reason) for coordinate, reason in analysis.deprecations)


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
        analysis = analysis_for(context)
        if analysis is not None:
            self.used = deprecations_used(analysis)
        if self.used:
            self._announce(context_of(context))
        yield

    def _announce(self, context: Context) -> None:
        if context.response is not None:  # None over WebSockets
            context.response.headers.update(deprecation_headers(self.used))
        record = current_request()
        client = record.client if record is not None else client_name(context.request.headers)
        label = _client_label(client)
        for deprecation in self.used:
            DEPRECATED_FIELD_USES.labels(field=deprecation.coordinate, client=label).inc()

    def get_results(self) -> dict[str, Any]:
        if not self.used:
            return {}
        return {"deprecations": [deprecation.as_json() for deprecation in self.used]}
