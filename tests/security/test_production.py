"""Production mode: no introspection, no GraphiQL, no suggestions, no development settings."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from cms.app import create_app
from cms.cli import main
from cms.settings import Settings
from tests.security.conftest import codes

PRODUCTION_DB = "postgres://cms:a-long-real-password@db.internal:5432/cms"


@pytest.fixture
async def production(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The app in production mode, on the test database."""
    # The app uses the test session's open database; the URL only has to pass production's
    # checks (the test server's URL may have no password).
    production_settings = Settings(env="production", database_url=PRODUCTION_DB)
    app = create_app(production_settings, manage_database=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


def test_production_turns_introspection_and_graphiql_off() -> None:
    settings = Settings(env="production", database_url=PRODUCTION_DB)
    assert settings.introspection is False
    assert settings.graphiql is False


# Guards Settings._production_ready: each of these starts in development, none in production.
@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        pytest.param({}, "set CMS_DATABASE_URL", id="default-database"),
        pytest.param(
            {"database_url": "postgres://postgres:postgres@db:5432/cms"},
            "well-known default password",
            id="default-password",
        ),
        pytest.param(
            {"database_url": "postgres://cms@db:5432/cms"}, "has no password", id="no-password"
        ),
        pytest.param(
            {"database_url": "postgres://cms:@db:5432/cms"}, "has no password", id="empty-password"
        ),
        *(
            pytest.param(
                {"database_url": f"postgres://cms:{password}@db:5432/cms"},
                "well-known default password",
                id=f"password-{password}",
            )
            for password in ("Postgres", "PASSWORD", "ChangeMe", "p%61ssword")
        ),
        pytest.param(
            {"metrics_token": "too-short"}, "CMS_METRICS_TOKEN is shorter", id="metrics-token"
        ),
        pytest.param({"graphiql": True}, "CMS_GRAPHIQL=true", id="graphiql"),
        pytest.param({"introspection": True}, "CMS_INTROSPECTION=true", id="introspection"),
        pytest.param({"log_level": "debug"}, "CMS_LOG_LEVEL=debug", id="debug-logging"),
    ],
)
def test_production_refuses_to_start_with_development_settings(
    overrides: dict[str, Any], reason: str
) -> None:
    fields = {"database_url": PRODUCTION_DB, **overrides} if overrides else {}
    Settings(env="development", **fields)  # fine for development
    with pytest.raises(ValidationError, match="CMS_ENV=production refuses to start") as refused:
        Settings(env="production", **fields)
    assert reason in str(refused.value)
    assert "postgres:postgres" not in str(refused.value), "the refusal shows the password"
    assert "too-short" not in str(refused.value), "the refusal shows the token"


def test_the_cli_refuses_production_with_a_default_password_and_exit_status_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CMS_ENV", "production")
    monkeypatch.setenv("CMS_DATABASE_URL", "postgres://cms:changeme@db:5432/cms")
    with pytest.raises(SystemExit) as exited:
        main(["migrate"])
    assert exited.value.code == 2
    error = capsys.readouterr().err
    assert "refuses to start" in error
    assert "changeme" not in error


INTROSPECTION_QUERIES = [
    pytest.param("{ __schema { types { name } } }", id="schema"),
    pytest.param('{ __type(name: "Post") { fields { name } } }', id="type"),
]


# Guards CMS_INTROSPECTION being off in production (NoSchemaIntrospectionCustomRule).
@pytest.mark.parametrize("query", INTROSPECTION_QUERIES)
async def test_introspection_is_refused_in_production(
    production: httpx.AsyncClient, query: str
) -> None:
    response = await production.post("/graphql", json={"query": query})
    assert set(codes(response.json())) == {"GRAPHQL_VALIDATION_FAILED"}
    assert "introspection" in response.json()["errors"][0]["message"].lower()


@pytest.mark.parametrize("query", INTROSPECTION_QUERIES)
async def test_introspection_works_in_development(client: httpx.AsyncClient, query: str) -> None:
    response = await client.post("/graphql", json={"query": query})
    assert "errors" not in response.json()


async def test_typename_still_works_in_production(production: httpx.AsyncClient) -> None:
    response = await production.post("/graphql", json={"query": "{ __typename }"})
    assert response.json() == {"data": {"__typename": "Query"}}


# Guards GraphiQL being off in production: no page, no assets.
async def test_graphiql_is_not_served_in_production(production: httpx.AsyncClient) -> None:
    page = await production.get("/graphql", headers={"Accept": "text/html"})
    assets = await production.get("/static/graphiql/graphiql-init.js")
    assert page.status_code == 404
    assert "graphiql" not in page.text.lower()
    assert assets.status_code == 404


MISSPELLED = [
    pytest.param("{ postz { totalCount } }", None, id="field"),
    pytest.param(
        "query($o: PostOrder!) { posts(orderBy: $o) { totalCount } }",
        {"o": "PUBLISHED_AT"},
        id="enum-variable",
    ),
    pytest.param('{ posts(filter: {tagz: "a"}) { totalCount } }', None, id="input-field"),
]


# Guards the suggestion stripping: "did you mean" hints reveal the schema field by field.
@pytest.mark.parametrize(("query", "variables"), MISSPELLED)
async def test_production_errors_suggest_nothing(
    production: httpx.AsyncClient, query: str, variables: dict[str, Any] | None
) -> None:
    response = await production.post("/graphql", json={"query": query, "variables": variables})
    [error] = response.json()["errors"]
    assert "Did you mean" not in error["message"]
    assert error["message"].endswith((".", "'"))


@pytest.mark.parametrize(("query", "variables"), MISSPELLED)
async def test_development_errors_do_suggest(
    client: httpx.AsyncClient, query: str, variables: dict[str, Any] | None
) -> None:
    response = await client.post("/graphql", json={"query": query, "variables": variables})
    assert "Did you mean" in response.json()["errors"][0]["message"]


# /metrics (cms.web.metrics.metrics_routes): the token, or nothing in production.
METRICS_TOKEN = "a-metrics-token-of-32-characters"


def metrics_client(**settings: Any) -> httpx.AsyncClient:
    app = create_app(Settings(**settings), manage_database=False)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


@pytest.mark.parametrize("token", [None, ""], ids=["unset", "empty"])
async def test_production_does_not_serve_metrics_without_a_token(token: str | None) -> None:
    settings = {"env": "production", "database_url": PRODUCTION_DB, "metrics_token": token}
    async with metrics_client(**settings) as client:
        response = await client.get("/metrics")
    assert response.status_code == 404
    assert "cms_http_requests" not in response.text


@pytest.mark.parametrize("env", ["production", "development"])
async def test_metrics_need_the_bearer_token_when_one_is_set(env: str) -> None:
    settings = {"env": env, "database_url": PRODUCTION_DB, "metrics_token": METRICS_TOKEN}
    async with metrics_client(**settings) as client:
        missing = await client.get("/metrics")
        wrong = await client.get("/metrics", headers={"Authorization": "Bearer not-the-token"})
        right = await client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    for refused in (missing, wrong):
        assert refused.status_code == 401
        assert refused.headers["WWW-Authenticate"].startswith("Bearer")
        assert codes(refused.json()) == ["UNAUTHENTICATED"]
        assert "cms_http_requests" not in refused.text
    assert right.status_code == 200
    assert "cms_http_requests_total" in right.text
