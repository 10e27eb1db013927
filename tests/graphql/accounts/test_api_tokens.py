"""API tokens over GraphQL: created with scopes and an expiry, shown once, listed, revoked."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from cms.auth.tokens import digest_of
from cms.models import ApiToken, Role, TokenKind
from tests.conftest import GraphQLRunner, Session, SignIn

CREATE = """
mutation Create($name: String!, $scopes: [Permission!]!, $expiresAt: DateTime) {
  createApiToken(input: {name: $name, scopes: $scopes, expiresAt: $expiresAt}) {
    token
    apiToken { id name prefix scopes createdAt expiresAt lastUsedAt revokedAt }
    errors { code field message }
  }
}
"""
REVOKE = """
mutation Revoke($id: ID!) {
  revokeApiToken(input: {id: $id}) {
    apiToken { id revokedAt }
    errors { code field message }
  }
}
"""
LIST = """
query List($all: Boolean! = false) {
  apiTokens(all: $all) { totalCount edges { node { id name prefix author { slug } } } }
}
"""
UPDATE_BIO = """
mutation { updateProfile(input: {bio: "Scripted."}) { me { bio } errors { code } } }
"""


def in_days(days: float) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).isoformat()


async def create_token(
    graphql: GraphQLRunner, session: Session, scopes: list[str] | None = None, **variables
) -> dict:
    body = await graphql(
        CREATE,
        {
            "name": "deploy",
            "scopes": ["PROFILE_EDIT_OWN"] if scopes is None else scopes,
            **variables,
        },
        headers=session.headers,
    )
    assert "errors" not in body, body
    payload: dict = body["data"]["createApiToken"]
    return payload


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def top_level_code(body: dict) -> str:
    assert body["data"] is None, body
    code: str = body["errors"][0]["extensions"]["code"]
    return code


async def test_the_secret_is_shown_once_and_only_its_digest_is_stored(
    graphql: GraphQLRunner, sign_in: SignIn
) -> None:
    session = await sign_in()
    created = await create_token(graphql, session, expiresAt=in_days(30))
    secret = created["token"]
    assert created["errors"] == []
    assert secret.startswith("cms_")
    assert created["apiToken"]["prefix"] == secret[:12]
    assert created["apiToken"]["scopes"] == ["PROFILE_EDIT_OWN"]
    [stored] = await ApiToken.filter(kind=TokenKind.API).values()
    assert stored["digest"] == digest_of(secret)
    assert all(secret not in str(value) for value in stored.values())
    listed = await graphql(LIST, headers=session.headers)
    assert secret not in str(listed)
    assert listed["data"]["apiTokens"]["edges"][0]["node"]["prefix"] == secret[:12]


async def test_a_token_authenticates_within_its_scopes_only(
    graphql: GraphQLRunner, sign_in: SignIn
) -> None:
    session = await sign_in(Role.EDITOR)
    secret = (await create_token(graphql, session, ["PROFILE_EDIT_OWN"]))["token"]
    body = await graphql(UPDATE_BIO, headers=bearer(secret))
    assert body["data"]["updateProfile"] == {"me": {"bio": "Scripted."}, "errors": []}
    # The editor may manage tokens, but this token was not given that scope.
    denied = await graphql(
        CREATE, {"name": "more", "scopes": ["PROFILE_EDIT_OWN"]}, headers=bearer(secret)
    )
    assert top_level_code(denied) == "FORBIDDEN"


async def test_a_token_records_when_it_was_last_used(
    graphql: GraphQLRunner, sign_in: SignIn
) -> None:
    session = await sign_in()
    created = await create_token(graphql, session, ["PROFILE_EDIT_OWN", "TOKENS_MANAGE_OWN"])
    assert created["apiToken"]["lastUsedAt"] is None
    listed = await graphql(LIST, headers=bearer(created["token"]))
    assert listed["data"]["apiTokens"]["totalCount"] == 1
    used = await ApiToken.get(kind=TokenKind.API)
    assert used.last_used_at is not None


async def test_the_default_lifetime_is_ninety_days(graphql: GraphQLRunner, sign_in: SignIn) -> None:
    created = await create_token(graphql, await sign_in())
    expires = datetime.fromisoformat(created["apiToken"]["expiresAt"])
    assert timedelta(days=89) < expires - datetime.now(UTC) <= timedelta(days=90)


@pytest.mark.parametrize(
    ("variables", "field"),
    [
        pytest.param({"expiresAt": in_days(-1)}, "expiresAt", id="expiry-in-the-past"),
        pytest.param({"expiresAt": in_days(366)}, "expiresAt", id="expiry-over-a-year"),
        pytest.param({"expiresAt": "2030-01-01T00:00:00"}, "expiresAt", id="expiry-without-zone"),
        pytest.param({"scopes": []}, "scopes", id="no-scopes"),
        pytest.param({"scopes": ["USERS_MANAGE"]}, "scopes.0", id="scope-the-author-lacks"),
        pytest.param({"name": "  "}, "name", id="blank-name"),
        pytest.param({"name": "x" * 101}, "name", id="overlong-name"),
    ],
)
async def test_invalid_tokens_are_refused_in_the_payload(
    graphql: GraphQLRunner, sign_in: SignIn, variables: dict, field: str
) -> None:
    session = await sign_in(Role.AUTHOR)
    created = await create_token(graphql, session, **variables)
    assert created["token"] is None
    assert created["apiToken"] is None
    [error] = created["errors"]
    assert (error["code"], error["field"]) == ("BAD_USER_INPUT", field)
    assert await ApiToken.filter(kind=TokenKind.API).count() == 0


async def test_token_mutations_need_credentials(graphql: GraphQLRunner) -> None:
    body = await graphql(CREATE, {"name": "x", "scopes": ["PROFILE_EDIT_OWN"]})
    assert top_level_code(body) == "UNAUTHENTICATED"
    assert top_level_code(await graphql(REVOKE, {"id": "QXBpVG9rZW46MQ=="})) == "UNAUTHENTICATED"
    assert top_level_code(await graphql(LIST)) == "UNAUTHENTICATED"


async def test_a_revoked_token_stops_working_at_once(
    graphql: GraphQLRunner, sign_in: SignIn
) -> None:
    session = await sign_in()
    created = await create_token(graphql, session)
    body = await graphql(REVOKE, {"id": created["apiToken"]["id"]}, headers=session.headers)
    revoked = body["data"]["revokeApiToken"]
    assert revoked["errors"] == []
    assert revoked["apiToken"]["revokedAt"] is not None
    assert top_level_code(await graphql(UPDATE_BIO, headers=bearer(created["token"]))) == (
        "UNAUTHENTICATED"
    )
    # Revoking again is harmless.
    again = await graphql(REVOKE, {"id": created["apiToken"]["id"]}, headers=session.headers)
    assert again["data"]["revokeApiToken"]["apiToken"] == revoked["apiToken"]


async def test_nobody_but_an_admin_revokes_another_authors_token(
    graphql: GraphQLRunner, sign_in: SignIn
) -> None:
    owner, editor, admin = await sign_in(), await sign_in(Role.EDITOR), await sign_in(Role.ADMIN)
    token_id = (await create_token(graphql, owner))["apiToken"]["id"]
    denied = await graphql(REVOKE, {"id": token_id}, headers=editor.headers)
    assert denied["data"]["revokeApiToken"]["errors"][0]["code"] == "NOT_FOUND"
    assert await ApiToken.filter(kind=TokenKind.API, revoked_at__isnull=True).count() == 1
    allowed = await graphql(REVOKE, {"id": token_id}, headers=admin.headers)
    assert allowed["data"]["revokeApiToken"]["errors"] == []
    assert await ApiToken.filter(kind=TokenKind.API, revoked_at__isnull=True).count() == 0


async def test_revoking_by_an_id_of_another_type_is_bad_input(
    graphql: GraphQLRunner, sign_in: SignIn
) -> None:
    session = await sign_in()
    author_id = "QXV0aG9yOjE="  # Author:1
    body = await graphql(REVOKE, {"id": author_id}, headers=session.headers)
    assert body["data"]["revokeApiToken"]["errors"][0]["code"] == "BAD_USER_INPUT"


async def test_authors_list_their_own_tokens_and_admins_everyones(
    graphql: GraphQLRunner, sign_in: SignIn
) -> None:
    ada, bob = await sign_in(), await sign_in()
    admin = await sign_in(Role.ADMIN)
    await create_token(graphql, ada, name="ada's")
    await create_token(graphql, bob, name="bob's")
    mine = await graphql(LIST, headers=ada.headers)
    assert [e["node"]["name"] for e in mine["data"]["apiTokens"]["edges"]] == ["ada's"]
    assert top_level_code(await graphql(LIST, {"all": True}, headers=ada.headers)) == "FORBIDDEN"
    everyone = await graphql(LIST, {"all": True}, headers=admin.headers)
    nodes = [edge["node"] for edge in everyone["data"]["apiTokens"]["edges"]]
    # Newest first; session tokens are not API tokens and are not listed.
    assert [(n["name"], n["author"]["slug"]) for n in nodes] == [
        ("bob's", bob.author.slug),
        ("ada's", ada.author.slug),
    ]
