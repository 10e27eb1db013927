"""Offboarding and passwords over GraphQL: deactivateUser, reactivateUser and changePassword."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from argon2 import PasswordHasher

from cms.auth.tokens import issue_token
from cms.graphql.node import to_global_id
from cms.models import ApiToken, Author, Role, TokenKind
from tests.conftest import GraphQLRunner, SignIn
from tests.factories import make_author

PASSWORD = "correct horse battery staple"
NEW_PASSWORD = "a brand new long password"
ERRORS = "errors { code field message }"
DEACTIVATE = f"""
mutation($id: ID!) {{
  deactivateUser(input: {{id: $id}}) {{ user {{ email isActive }} {ERRORS} }}
}}
"""
REACTIVATE = f"""
mutation($id: ID!) {{
  reactivateUser(input: {{id: $id}}) {{ user {{ email isActive }} {ERRORS} }}
}}
"""
CHANGE_PASSWORD = f"""
mutation($current: String!, $new: String!) {{
  changePassword(input: {{currentPassword: $current, newPassword: $new}}) {{
    endedSessions {ERRORS}
  }}
}}
"""
LOGIN = f"""
mutation($email: String!, $password: String!) {{
  login(input: {{email: $email, password: $password}}) {{ token {ERRORS} }}
}}
"""
ME = "query { me { email } }"


@pytest.fixture(scope="module")
def password_hash() -> str:
    return PasswordHasher().hash(PASSWORD)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def api_token_of(author: Author) -> str:
    issued = await issue_token(
        author_id=author.id,
        kind=TokenKind.API,
        name="deploy",
        scopes=["posts.create"],
        expires_at=datetime.now(UTC) + timedelta(days=30),
    )
    return issued.secret


async def login(graphql: GraphQLRunner, email: str, password: str) -> dict:
    result: dict = (await graphql(LOGIN, {"email": email, "password": password}))["data"]["login"]
    return result


async def is_signed_in(graphql: GraphQLRunner, headers: dict[str, str]) -> bool:
    body = await graphql(ME, headers=headers)
    if "errors" in body:
        assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED", body
        return False
    return body["data"]["me"] is not None


async def test_deactivation_ends_every_session_and_api_token_at_once(
    graphql: GraphQLRunner, sign_in: SignIn
) -> None:
    admin = await sign_in(Role.ADMIN)
    leaver = await sign_in(Role.EDITOR, email="leaver@example.org")
    other_session = await sign_in(author=leaver.author)
    api_token = await api_token_of(leaver.author)
    for headers in (leaver.headers, other_session.headers, bearer(api_token)):
        assert await is_signed_in(graphql, headers)

    body = await graphql(
        DEACTIVATE, {"id": to_global_id("Author", leaver.author.id)}, headers=admin.headers
    )

    assert body["data"]["deactivateUser"] == {
        "user": {"email": "leaver@example.org", "isActive": False},
        "errors": [],
    }
    for headers in (leaver.headers, other_session.headers, bearer(api_token)):
        assert not await is_signed_in(graphql, headers)
    live = ApiToken.filter(author_id=leaver.author.id, revoked_at__isnull=True)
    assert await live.count() == 0
    assert await is_signed_in(graphql, admin.headers)


async def test_a_deactivated_account_cannot_log_in_and_is_told_nothing_more(
    graphql: GraphQLRunner, sign_in: SignIn, password_hash: str
) -> None:
    admin = await sign_in(Role.ADMIN)
    leaver = await make_author(email="leaver@example.org", password_hash=password_hash)
    await graphql(DEACTIVATE, {"id": to_global_id("Author", leaver.id)}, headers=admin.headers)
    refused = await login(graphql, "leaver@example.org", PASSWORD)
    unknown = await login(graphql, "nobody@example.org", PASSWORD)
    assert (
        refused
        == unknown
        == {
            "token": None,
            "errors": [
                {"code": "UNAUTHENTICATED", "field": None, "message": "Invalid email or password."}
            ],
        }
    )


async def test_reactivation_lets_the_author_log_in_but_revives_no_old_token(
    graphql: GraphQLRunner, sign_in: SignIn, password_hash: str
) -> None:
    admin = await sign_in(Role.ADMIN)
    leaver = await sign_in(email="leaver@example.org", password_hash=password_hash)
    author_id = to_global_id("Author", leaver.author.id)
    await graphql(DEACTIVATE, {"id": author_id}, headers=admin.headers)

    body = await graphql(REACTIVATE, {"id": author_id}, headers=admin.headers)

    assert body["data"]["reactivateUser"]["user"]["isActive"] is True
    assert not await is_signed_in(graphql, leaver.headers)
    fresh = await login(graphql, "leaver@example.org", PASSWORD)
    assert fresh["errors"] == []
    assert await is_signed_in(graphql, bearer(fresh["token"]))


async def test_an_admin_cannot_deactivate_themself(graphql: GraphQLRunner, sign_in: SignIn) -> None:
    admin = await sign_in(Role.ADMIN)
    await make_author(role=Role.ADMIN)
    body = await graphql(
        DEACTIVATE, {"id": to_global_id("Author", admin.author.id)}, headers=admin.headers
    )
    assert body["data"]["deactivateUser"] == {
        "user": None,
        "errors": [
            {
                "code": "BAD_USER_INPUT",
                "field": "id",
                "message": "You cannot deactivate your own account.",
            }
        ],
    }
    assert await is_signed_in(graphql, admin.headers)


async def test_the_last_active_admin_stays_active(graphql: GraphQLRunner, sign_in: SignIn) -> None:
    """Two admins deactivating each other at once: one wins, the other is refused.

    A race shows only now and then, so several rounds are run, each with a fresh pair.
    """
    for _ in range(5):
        await Author.filter(role=Role.ADMIN).update(is_active=False)
        first, second = await sign_in(Role.ADMIN), await sign_in(Role.ADMIN)
        bodies = await asyncio.gather(
            graphql(
                DEACTIVATE, {"id": to_global_id("Author", second.author.id)}, headers=first.headers
            ),
            graphql(
                DEACTIVATE, {"id": to_global_id("Author", first.author.id)}, headers=second.headers
            ),
        )
        assert await Author.filter(role=Role.ADMIN, is_active=True).count() == 1, bodies
        errors = sorted(
            (body["data"]["deactivateUser"]["errors"] if body.get("data") else body["errors"])
            for body in bodies
        )
        assert [len(found) for found in errors] == [0, 1], bodies


@pytest.mark.parametrize("role", [Role.AUTHOR, Role.EDITOR])
async def test_only_admins_deactivate(graphql: GraphQLRunner, sign_in: SignIn, role: Role) -> None:
    caller, victim = await sign_in(role), await sign_in()
    body = await graphql(
        DEACTIVATE, {"id": to_global_id("Author", victim.author.id)}, headers=caller.headers
    )
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert await is_signed_in(graphql, victim.headers)


async def test_deactivating_an_unknown_author_is_not_found(
    graphql: GraphQLRunner, sign_in: SignIn
) -> None:
    admin = await sign_in(Role.ADMIN)
    body = await graphql(DEACTIVATE, {"id": to_global_id("Author", 9999)}, headers=admin.headers)
    assert body["data"]["deactivateUser"]["errors"] == [
        {"code": "NOT_FOUND", "field": "id", "message": "There is no author with id 9999."}
    ]


async def signed_in_twice(graphql: GraphQLRunner, password_hash: str) -> tuple[str, str]:
    await make_author(email="ada@example.org", password_hash=password_hash)
    first = await login(graphql, "ada@example.org", PASSWORD)
    second = await login(graphql, "ada@example.org", PASSWORD)
    return first["token"], second["token"]


async def test_changing_the_password_ends_the_other_sessions_but_not_this_one(
    graphql: GraphQLRunner, password_hash: str
) -> None:
    laptop, phone = await signed_in_twice(graphql, password_hash)
    ada = await Author.get(email="ada@example.org")
    script = await api_token_of(ada)

    body = await graphql(
        CHANGE_PASSWORD, {"current": PASSWORD, "new": NEW_PASSWORD}, headers=bearer(laptop)
    )

    assert body["data"]["changePassword"] == {"endedSessions": 1, "errors": []}
    assert await is_signed_in(graphql, bearer(laptop))
    assert not await is_signed_in(graphql, bearer(phone))
    assert await is_signed_in(graphql, bearer(script))  # API tokens are separate credentials
    assert (await login(graphql, "ada@example.org", PASSWORD))["token"] is None
    assert (await login(graphql, "ada@example.org", NEW_PASSWORD))["token"] is not None


@pytest.mark.parametrize(
    ("current", "new", "error"),
    [
        pytest.param(
            "wrong password!",
            NEW_PASSWORD,
            {
                "code": "BAD_USER_INPUT",
                "field": "currentPassword",
                "message": "The current password is not right.",
            },
            id="wrong-current",
        ),
        pytest.param(
            PASSWORD,
            "short",
            {
                "code": "BAD_USER_INPUT",
                "field": "newPassword",
                "message": "The password must be at least 12 characters long.",
            },
            id="short-new",
        ),
    ],
)
async def test_a_refused_password_change_changes_nothing(
    graphql: GraphQLRunner, password_hash: str, current: str, new: str, error: dict
) -> None:
    laptop, phone = await signed_in_twice(graphql, password_hash)
    body = await graphql(CHANGE_PASSWORD, {"current": current, "new": new}, headers=bearer(laptop))
    assert body["data"]["changePassword"] == {"endedSessions": None, "errors": [error]}
    assert await is_signed_in(graphql, bearer(phone))
    assert (await Author.get(email="ada@example.org")).password_hash == password_hash


async def test_guessing_the_current_password_is_throttled_like_logins(
    graphql: GraphQLRunner, password_hash: str
) -> None:
    laptop, _ = await signed_in_twice(graphql, password_hash)
    codes = []
    for _ in range(12):
        body = await graphql(
            CHANGE_PASSWORD,
            {"current": "a wrong guess!", "new": NEW_PASSWORD},
            headers=bearer(laptop),
        )
        codes.append(body["data"]["changePassword"]["errors"][0]["code"])
    assert "THROTTLED" in codes


async def test_anonymous_callers_cannot_change_a_password(graphql: GraphQLRunner) -> None:
    body = await graphql(CHANGE_PASSWORD, {"current": PASSWORD, "new": NEW_PASSWORD})
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
