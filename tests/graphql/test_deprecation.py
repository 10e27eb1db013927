"""Deprecated fields: the helper's rules, and what a response that used one carries."""

from __future__ import annotations

import enum
from datetime import date, timedelta
from typing import Annotated

import httpx
import pytest
import strawberry
from graphql import parse
from prometheus_client import REGISTRY

from cms.graphql.analysis import analyse
from cms.graphql.deprecation import (
    Deprecation,
    deprecated,
    deprecation_headers,
    deprecations_used,
    parse_dates,
)
from cms.graphql.schema import schema
from tests.factories import make_post

SINCE = date(2026, 11, 26)


def test_the_reason_names_the_replacement_and_both_dates() -> None:
    reason = deprecated(
        reason="Renamed.", replacement="readingTimeMinutes", since=SINCE, sunset=date(2027, 3, 1)
    )
    assert reason == (
        "Renamed. Use `readingTimeMinutes` instead. Deprecated: 2026-11-26. Sunset: 2027-03-01."
    )
    assert parse_dates(reason) == (SINCE, date(2027, 3, 1))


def test_a_sunset_of_exactly_twelve_weeks_is_accepted() -> None:
    deprecated(reason="Gone soon", since=SINCE, sunset=SINCE + timedelta(weeks=12))


def test_a_sunset_sooner_than_twelve_weeks_is_refused() -> None:
    with pytest.raises(ValueError, match=r"less than twelve weeks.*choose 2027-02-18 or later"):
        deprecated(reason="Too soon", since=SINCE, sunset=SINCE + timedelta(weeks=12, days=-1))


def test_an_empty_reason_is_refused() -> None:
    with pytest.raises(ValueError, match="reason is empty"):
        deprecated(reason=" . ", since=SINCE, sunset=date(2028, 1, 1))


LATER = deprecated(reason="Old", since=date(2026, 12, 1), sunset=date(2027, 6, 1))
SOONER = deprecated(reason="Older", since=SINCE, sunset=date(2027, 3, 1))


@strawberry.enum
class Order(enum.Enum):
    NEW = "new"
    OLD = strawberry.enum_value("old", deprecation_reason=SOONER)


@strawberry.type
class Item:
    name: str = "x"
    label: str | None = strawberry.field(default="y", deprecation_reason=LATER)


@strawberry.type
class Query:
    @strawberry.field
    def items(
        self,
        order: Order = Order.NEW,
        tag: Annotated[str | None, strawberry.argument(deprecation_reason=SOONER)] = None,
    ) -> list[Item]:
        return [Item()]


toy = strawberry.Schema(query=Query)


def coordinates(query: str, operation: str | None = None) -> list[str]:
    analysis = analyse(toy._schema, parse(query), operation, None)
    assert analysis is not None
    return [d.coordinate for d in deprecations_used(analysis)]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        pytest.param("{ items { name } }", [], id="nothing deprecated"),
        pytest.param("{ items { label } }", ["Item.label"], id="field"),
        pytest.param('{ items(tag: "a") { name } }', ["Query.items(tag:)"], id="argument"),
        pytest.param("{ items(order: OLD) { name } }", ["Order.OLD"], id="enum value"),
        pytest.param(
            "{ items { ...F } } fragment F on Item { label }", ["Item.label"], id="in a fragment"
        ),
        pytest.param("{ a: items { label } b: items { label } }", ["Item.label"], id="once"),
        pytest.param("{ items { label @skip(if: true) } }", [], id="left out by @skip"),
        pytest.param(
            "query($o: Order = OLD) { items(order: $o) { name } }",
            ["Order.OLD"],
            id="a variable's default",
        ),
        pytest.param(
            "query($o: [Order!] = [NEW, OLD]) { items { name } }",
            ["Order.OLD"],
            id="in a list",
        ),
    ],
)
def test_deprecated_parts_of_a_document_are_found(query: str, expected: list[str]) -> None:
    assert coordinates(query) == expected


def test_only_the_operation_that_runs_counts() -> None:
    document = "query A { items { name } } query B { items { label } }"
    assert coordinates(document, "A") == []
    assert coordinates(document, "B") == ["Item.label"]


def test_headers_carry_the_earliest_dates() -> None:
    used = (Deprecation.of("Item.label", LATER), Deprecation.of("Order.OLD", SOONER))
    assert deprecation_headers(used) == {
        "Deprecation": "@1795651200",  # 2026-11-26T00:00:00Z
        "Sunset": "Mon, 01 Mar 2027 00:00:00 GMT",
    }


def test_the_published_schema_deprecates_reading_time_with_a_sunset() -> None:
    field = schema._schema.type_map["Post"].fields["readingTime"]  # type: ignore[union-attr]
    assert parse_dates(field.deprecation_reason) == (SINCE, date(2027, 3, 1))


READING_TIME = "query Reading { posts(first: 5) { edges { node { readingTime } } } }"
READING_TIME_MINUTES = "{ posts(first: 5) { edges { node { readingTimeMinutes } } } }"


def uses(client_name: str) -> float:
    value = REGISTRY.get_sample_value(
        "cms_graphql_deprecated_field_uses_total",
        {"field": "Post.readingTime", "client": client_name},
    )
    return value or 0.0


async def test_a_response_that_used_a_deprecated_field_says_so(client: httpx.AsyncClient) -> None:
    await make_post()
    before = uses("storefront")
    response = await client.post(
        "/graphql",
        json={"query": READING_TIME},
        headers={"apollographql-client-name": "storefront"},
    )
    body = response.json()
    assert body["data"]["posts"]["edges"][0]["node"]["readingTime"] == 1
    assert body["extensions"]["deprecations"] == [
        {
            "field": "Post.readingTime",
            "reason": "Renamed so that the name says the unit. Use `readingTimeMinutes` "
            "instead. Deprecated: 2026-11-26. Sunset: 2027-03-01.",
            "sunset": "2027-03-01",
        }
    ]
    assert response.headers["Deprecation"] == "@1795651200"
    assert response.headers["Sunset"] == "Mon, 01 Mar 2027 00:00:00 GMT"
    assert uses("storefront") == before + 1


async def test_the_client_may_name_itself_with_x_client_name(client: httpx.AsyncClient) -> None:
    before = uses("ios-app")
    await client.post(
        "/graphql", json={"query": READING_TIME}, headers={"X-Client-Name": "ios-app"}
    )
    await client.post(
        "/graphql", json={"query": READING_TIME}, headers={"X-Client-Name": "ios-app"}
    )
    assert uses("ios-app") == before + 2


async def test_a_response_without_deprecated_fields_carries_no_notice(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post("/graphql", json={"query": READING_TIME_MINUTES})
    assert "extensions" not in response.json()
    assert "Deprecation" not in response.headers
    assert "Sunset" not in response.headers


async def test_an_operation_that_fails_validation_reports_no_deprecations(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(
        "/graphql", json={"query": "{ posts { edges { node { readingTime nope } } } }"}
    )
    assert "deprecations" not in response.json().get("extensions", {})
    assert "Deprecation" not in response.headers
