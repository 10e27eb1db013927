"""Sign-in sessions over GraphQL: `sessions`, `User.sessions` and `revokeSession`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from argon2 import PasswordHasher

from cms.auth.tokens import issue_token
from cms.graphql.node import to_global_id
from cms.models import ApiToken, Role, TokenKind
from tests.conftest import GraphQLRunner, SignIn
from tests.factories import make_author

PASSWORD = "correct horse battery staple"
ERRORS = "errors { code field message }"
SESSION_FIELDS = "id createdAt expiresAt lastUsedAt userAgent clientAddress current"
SESSIONS = f"""
query($userId: ID) {{ sessions(userId: $userId) {{ edges {{ node {{ {SESSION_FIELDS} }} }} }} }}
"""
REVOKE = f"""
mutation($id: ID!) {{ revokeSession(input: {{id: $id}}) {{ session {{ id current }} {ERRORS} }} }}
"""
USER_SESSIONS = f"""
mutation($id: ID!) {{
  reactivateUser(input: {{id: $id}}) {{
    user {{ sessions {{ edges {{ node {{ id current }} }} }} }}
    {ERRORS}
  }}
}}
"""
LOGIN = """
mutation($email: String!, $password: String!) {
  login(input: {email: $email, password: $password}) { token errors { code } }
}
"""
ME = "query { me { email } }"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def session_id(token_id: int) -> str:
    return to_global_id("Session", token_id)


async def works(graphql: GraphQLRunner, headers: dict[str, str]) -> bool:
    body = await graphql(ME, headers=headers)
    return "errors" not in body and body["data"]["me"] is not None


def nodes(body: dict, *path: str) -> list[dict]:
    assert "errors" not in body, body
    data = body["data"]
    for key in path:
        data = data[key]
    return [edge["node"] for edge in data["edges"]]


async def test_sessions_lists_the_viewers_open_sessions_with_where_they_came_from(
    graphql: GraphQLRunner,
) -> None:
    await make_author(email="ada@example.org", password_hash=PasswordHasher().hash(PASSWORD))
    tokens = []
    for agent in ("Laptop Firefox", "Phone Safari"):
        body = await graphql(
            LOGIN,
            {"email": "ada@example.org", "password": PASSWORD},
            headers={"User-Agent": agent},
        )
        tokens.append(body["data"]["login"]["token"])
    laptop, phone = tokens
    await graphql(REVOKE, {"id": session_id(await newest_session_id())}, headers=bearer(phone))

    listed = nodes(await graphql(SESSIONS, headers=bearer(laptop)), "sessions")

    [only] = listed  # the phone's session ended; API tokens and ended sessions are not listed
    assert only["userAgent"] == "Laptop Firefox"
    assert only["clientAddress"] == "127.0.0.1"
    assert only["current"] is True
    assert only["lastUsedAt"] is not None
    assert not await works(graphql, bearer(phone))


async def newest_session_id() -> int:
    token = await ApiToken.filter(kind=TokenKind.SESSION).order_by("-id").first()
    assert token is not None
    return token.id


async def test_an_admin_lists_and_revokes_another_authors_session(
    graphql: GraphQLRunner, sign_in: SignIn
) -> None:
    admin, victim = await sign_in(Role.ADMIN), await sign_in()
    stolen = await sign_in(author=victim.author)
    stolen_id = await newest_session_id()

    listed = nodes(
        await graphql(
            SESSIONS, {"userId": to_global_id("Author", victim.author.id)}, headers=admin.headers
        ),
        "sessions",
    )
    victims = ApiToken.filter(author_id=victim.author.id).order_by("-id")
    assert [node["id"] for node in listed] == [session_id(token.id) for token in await victims]
    assert not any(node["current"] for node in listed)
    via_user = nodes(
        await graphql(
            USER_SESSIONS, {"id": to_global_id("Author", victim.author.id)}, headers=admin.headers
        ),
        "reactivateUser",
        "user",
        "sessions",
    )
    assert [node["id"] for node in via_user] == [node["id"] for node in listed]

    body = await graphql(REVOKE, {"id": session_id(stolen_id)}, headers=admin.headers)

    assert body["data"]["revokeSession"] == {
        "session": {"id": session_id(stolen_id), "current": False},
        "errors": [],
    }
    assert not await works(graphql, stolen.headers)
    assert await works(graphql, victim.headers)


@pytest.mark.parametrize("role", [Role.AUTHOR, Role.EDITOR])
async def test_others_cannot_list_or_revoke_someone_elses_sessions(
    graphql: GraphQLRunner, sign_in: SignIn, role: Role
) -> None:
    caller, victim = await sign_in(role), await sign_in()
    [victim_token] = await ApiToken.filter(author_id=victim.author.id)

    listed = await graphql(
        SESSIONS, {"userId": to_global_id("Author", victim.author.id)}, headers=caller.headers
    )
    assert listed["data"] is None
    assert listed["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    revoked = await graphql(REVOKE, {"id": session_id(victim_token.id)}, headers=caller.headers)
    assert revoked["data"]["revokeSession"] == {
        "session": None,
        "errors": [
            {
                "code": "NOT_FOUND",
                "field": "id",
                "message": f"There is no session with id {victim_token.id}.",
            }
        ],
    }
    assert await works(graphql, victim.headers)


async def test_control_characters_of_a_user_agent_are_not_stored(graphql: GraphQLRunner) -> None:
    await make_author(email="ada@example.org", password_hash=PasswordHasher().hash(PASSWORD))
    body = await graphql(
        LOGIN,
        {"email": "ada@example.org", "password": PASSWORD},
        headers={"User-Agent": "Evil\x1b[2J\x1b]0;owned\x07 Browser"},
    )
    token = body["data"]["login"]["token"]
    [listed] = nodes(await graphql(SESSIONS, headers=bearer(token)), "sessions")
    assert listed["userAgent"] == "Evil[2J]0;owned Browser"


async def test_an_api_token_is_not_a_session(graphql: GraphQLRunner, sign_in: SignIn) -> None:
    session = await sign_in()
    api = await issue_token(
        author_id=session.author.id,
        kind=TokenKind.API,
        name="script",
        scopes=["sessions.manage_own"],
        expires_at=datetime.now(UTC) + timedelta(days=1),
    )
    listed = nodes(await graphql(SESSIONS, headers=bearer(api.secret)), "sessions")
    assert [node["current"] for node in listed] == [False]
    body = await graphql(REVOKE, {"id": session_id(api.token.id)}, headers=session.headers)
    assert body["data"]["revokeSession"]["errors"][0]["code"] == "NOT_FOUND"
    assert await works(graphql, bearer(api.secret))


async def test_anonymous_callers_have_no_sessions(graphql: GraphQLRunner) -> None:
    body = await graphql(SESSIONS)
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
