"""One log line per request under a request id, and what /metrics counts."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import pytest
from prometheus_client import REGISTRY
from tortoise.backends.sqlite.client import SqliteClient

from cms.app import create_app
from cms.errors import ServiceUnavailable
from cms.observability.metrics import CACHE_EVENTS, BoundedLabel
from cms.settings import Settings
from tests.factories import make_post

LATEST = "query Latest { posts(first: 3) { totalCount edges { node { title } } } }"


def request_lines(stderr: str) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]
    return [line for line in lines if line.get("event") == "request"]


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_a_sane_incoming_request_id_is_kept_and_returned(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz", headers={"X-Request-ID": "edge-42.a_b"})
    assert response.headers["X-Request-ID"] == "edge-42.a_b"


@pytest.mark.parametrize(
    "incoming",
    [
        pytest.param("a" * 201, id="too long"),
        pytest.param("has space", id="space"),
        pytest.param("semi;colon", id="punctuation"),
        pytest.param("", id="empty"),
    ],
)
async def test_an_unusable_request_id_is_replaced(client: httpx.AsyncClient, incoming: str) -> None:
    response = await client.get("/healthz", headers={"X-Request-ID": incoming})
    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["X-Request-ID"])


async def test_each_request_without_an_id_gets_a_new_one(client: httpx.AsyncClient) -> None:
    first = await client.get("/healthz")
    second = await client.get("/healthz")
    assert first.headers["X-Request-ID"] != second.headers["X-Request-ID"]


async def test_one_json_line_per_request_tells_what_it_cost(
    client: httpx.AsyncClient, capsys: pytest.CaptureFixture[str]
) -> None:
    await make_post()
    capsys.readouterr()
    response = await client.post(
        "/graphql",
        json={"query": LATEST},
        headers={"X-Client-Name": "web", "X-Request-ID": "req-1"},
    )
    assert response.status_code == 200
    (line,) = request_lines(capsys.readouterr().err)
    assert line["request_id"] == "req-1"
    assert line["level"] == "info"
    assert (line["method"], line["path"], line["status"]) == ("POST", "/graphql", 200)
    assert (line["operation"], line["client"]) == ("Latest", "web")
    assert line["sql_statements"] >= 2  # the page and its total count
    assert line["duration_ms"] >= 0
    assert isinstance(line["pid"], int)
    assert line["timestamp"].endswith("Z")


async def test_error_codes_are_logged_and_counted(
    client: httpx.AsyncClient, capsys: pytest.CaptureFixture[str]
) -> None:
    before = sample("cms_graphql_errors_total", code="GRAPHQL_VALIDATION_FAILED")
    capsys.readouterr()
    await client.post("/graphql", json={"query": "query Broken { nope }"})
    (line,) = request_lines(capsys.readouterr().err)
    assert line["errors"] == ["GRAPHQL_VALIDATION_FAILED"]
    assert line["operation"] == "Broken"
    assert sample("cms_graphql_errors_total", code="GRAPHQL_VALIDATION_FAILED") == before + 1


async def test_probes_log_only_at_debug_level(
    client: httpx.AsyncClient, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    await client.get("/healthz")
    await client.get("/metrics")
    assert request_lines(capsys.readouterr().err) == []


async def test_development_logs_are_text_for_people(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    app = create_app(settings.model_copy(update={"env": "development"}), manage_database=False)
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://testserver"
        ) as client:
            capsys.readouterr()
            await client.post("/graphql", json={"query": LATEST})
        err = capsys.readouterr().err
        assert "request" in err
        assert "operation=Latest" in err
        assert request_lines(err) == []
    finally:
        create_app(settings, manage_database=False)  # back to JSON for the tests that follow


async def test_requests_latency_and_statements_are_counted_by_operation(
    client: httpx.AsyncClient,
) -> None:
    labels = {"route": "/graphql", "operation": "Latest"}
    requests = sample("cms_http_requests_total", **labels, status="200")
    latencies = sample("cms_http_request_duration_seconds_count", **labels)
    statements = sample("cms_sql_statements_per_request_sum", operation="Latest")
    await client.post("/graphql", json={"query": LATEST})
    assert sample("cms_http_requests_total", **labels, status="200") == requests + 1
    assert sample("cms_http_request_duration_seconds_count", **labels) == latencies + 1
    assert sample("cms_sql_statements_per_request_sum", operation="Latest") >= statements + 2


async def test_metrics_are_served_in_prometheus_text(client: httpx.AsyncClient) -> None:
    CACHE_EVENTS.labels(result="hit").inc()
    await client.post("/graphql", json={"query": LATEST})
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    for name in (
        'cms_http_requests_total{operation="Latest",route="/graphql",status="200"}',
        'cms_cache_events_total{result="hit"}',
        'cms_cache_events_total{result="miss"}',
        "cms_http_request_duration_seconds_bucket",
        "cms_sql_statements_per_request_bucket",
    ):
        assert name in response.text


def test_client_chosen_label_values_are_bounded() -> None:
    label = BoundedLabel(limit=2)
    assert [label(v) for v in ("a", "b", "c", "a", "bad value")] == [
        "a",
        "b",
        "other",
        "a",
        "other",
    ]


async def test_a_database_that_cannot_serve_in_time_answers_503(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def unavailable(*args: object, **kwargs: object) -> None:
        raise ServiceUnavailable("No database connection became free within 5 s; retry shortly.")

    for method in ("execute_query", "execute_query_dict"):
        monkeypatch.setattr(SqliteClient, method, unavailable)
    monkeypatch.setattr(
        "tortoise.backends.asyncpg.client.AsyncpgDBClient.execute_query", unavailable
    )
    monkeypatch.setattr(
        "tortoise.backends.asyncpg.client.AsyncpgDBClient.execute_query_dict", unavailable
    )
    response = await client.post("/graphql", json={"query": LATEST})
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "1"
    codes = {error["extensions"]["code"] for error in response.json()["errors"]}
    assert codes == {"SERVICE_UNAVAILABLE"}


async def test_a_database_failure_before_execution_also_answers_503(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def unavailable(*args: object) -> None:
        raise ServiceUnavailable("The database cannot be reached; retry shortly.")

    monkeypatch.setattr("cms.graphql.context.authenticate", unavailable)
    response = await client.post(
        "/graphql", json={"query": LATEST}, headers={"Authorization": "Bearer x"}
    )
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "1"
    assert response.json() == {
        "data": None,
        "errors": [
            {
                "message": "The database cannot be reached; retry shortly.",
                "extensions": {"code": "SERVICE_UNAVAILABLE"},
            }
        ],
    }
