"""Signing in and out over GraphQL: login, logout, me, bearer tokens and login throttling."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from argon2 import PasswordHasher

from cms.app import create_app
from cms.auth.passwords import PasswordHashing
from cms.auth.tokens import digest_of
from cms.models import ApiToken, Author, Role, TokenKind
from cms.permissions import ROLE_PERMISSIONS
from cms.settings import Settings
from tests.conftest import GraphQLRunner, SignIn
from tests.factories import make_author

PASSWORD = "correct horse battery staple"
LOGIN = """
mutation Login($email: String!, $password: String!) {
  login(input: {email: $email, password: $password}) {
    token
    expiresAt
    viewer { name email role }
    errors { code field message }
  }
}
"""
ME = "query { me { id name slug email role bio permissions } }"
LOGOUT = "mutation { logout { errors { code message } } }"
INVALID_LOGIN = {"code": "UNAUTHENTICATED", "field": None, "message": "Invalid email or password."}


@pytest.fixture(scope="module")
def password_hash() -> str:
    return PasswordHasher().hash(PASSWORD)


@pytest.fixture
async def ada(password_hash: str) -> Author:
    return await make_author(
        name="Ada", email="ada@example.org", role=Role.EDITOR, password_hash=password_hash
    )


def aliased_logins(count: int, *, email: str, password: str) -> str:
    fields = "\n".join(
        f'a{n}: login(input: {{email: "{email}", password: "{password}"}}) '
        "{ token errors { code message } }"
        for n in range(count)
    )
    return f"mutation {{\n{fields}\n}}"


def login_errors(body: dict) -> list[dict]:
    assert "errors" not in body, body
    return [field["errors"][0] if field["errors"] else None for field in body["data"].values()]


async def test_login_returns_a_token_that_signs_in_later_requests(
    graphql: GraphQLRunner, ada: Author
) -> None:
    body = await graphql(LOGIN, {"email": "ada@example.org", "password": PASSWORD})
    login = body["data"]["login"]
    assert login["errors"] == []
    assert login["viewer"] == {"name": "Ada", "email": "ada@example.org", "role": "EDITOR"}
    assert login["token"].startswith("cms_")
    expires = datetime.fromisoformat(login["expiresAt"])
    assert timedelta(days=13) < expires - datetime.now(UTC) <= timedelta(days=14)
    me = await graphql(ME, headers={"Authorization": f"Bearer {login['token']}"})
    assert me["data"]["me"]["email"] == "ada@example.org"


async def test_the_session_is_stored_as_a_digest_only(graphql: GraphQLRunner, ada: Author) -> None:
    body = await graphql(LOGIN, {"email": "ada@example.org", "password": PASSWORD})
    token = body["data"]["login"]["token"]
    [session] = await ApiToken.filter(author_id=ada.id)
    assert session.kind == TokenKind.SESSION
    assert session.digest == digest_of(token)
    assert token not in str(await ApiToken.filter(id=session.id).values())


async def test_email_addresses_match_whatever_their_case_and_spacing(
    graphql: GraphQLRunner, ada: Author
) -> None:
    body = await graphql(LOGIN, {"email": "  ADA@Example.ORG ", "password": PASSWORD})
    assert body["data"]["login"]["errors"] == []


@pytest.mark.parametrize(
    ("email", "password", "author_fields"),
    [
        pytest.param("ada@example.org", PASSWORD + "x", {}, id="wrong-password"),
        pytest.param("nobody@example.org", PASSWORD, {}, id="unknown-email"),
        pytest.param("ada@example.org", PASSWORD, {"is_active": False}, id="deactivated"),
        pytest.param("ada@example.org", PASSWORD, {"password_hash": None}, id="no-password"),
        pytest.param("ada@example.org", "", {}, id="empty-password"),
        pytest.param("ada\x00@example.org", PASSWORD, {}, id="nul-in-email"),
        pytest.param("a" * 300 + "@example.org", PASSWORD, {}, id="overlong-email"),
    ],
)
async def test_every_failed_login_gets_the_same_generic_error(
    graphql: GraphQLRunner,
    password_hash: str,
    email: str,
    password: str,
    author_fields: dict,
) -> None:
    await make_author(email="ada@example.org", **{"password_hash": password_hash, **author_fields})
    body = await graphql(LOGIN, {"email": email, "password": password})
    assert body["data"]["login"] == {
        "token": None,
        "expiresAt": None,
        "viewer": None,
        "errors": [INVALID_LOGIN],
    }
    assert await ApiToken.all().count() == 0


async def test_login_rehashes_a_password_stored_with_older_parameters(
    graphql: GraphQLRunner,
) -> None:
    old_hash = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1).hash(PASSWORD)
    author = await make_author(email="old@example.org", password_hash=old_hash)
    body = await graphql(LOGIN, {"email": "old@example.org", "password": PASSWORD})
    assert body["data"]["login"]["errors"] == []
    new_hash = (await Author.get(id=author.id)).password_hash
    assert new_hash != old_hash
    assert not PasswordHasher().check_needs_rehash(new_hash)
    PasswordHasher().verify(new_hash, PASSWORD)


async def test_login_leaves_a_current_hash_alone(
    graphql: GraphQLRunner, ada: Author, password_hash: str
) -> None:
    await graphql(LOGIN, {"email": "ada@example.org", "password": PASSWORD})
    assert (await Author.get(id=ada.id)).password_hash == password_hash


async def test_me_is_null_for_anonymous_readers(graphql: GraphQLRunner) -> None:
    assert await graphql(ME) == {"data": {"me": None}}


async def test_me_shows_the_viewers_own_account(graphql: GraphQLRunner, sign_in: SignIn) -> None:
    session = await sign_in(Role.AUTHOR, name="Grace", email="grace@example.org", bio="Hi.")
    body = await graphql(ME, headers=session.headers)
    me = body["data"]["me"]
    assert (me["name"], me["email"], me["role"], me["bio"]) == (
        "Grace",
        "grace@example.org",
        "AUTHOR",
        "Hi.",
    )
    assert me["slug"] == session.author.slug
    expected = sorted(permission.name for permission in ROLE_PERMISSIONS[Role.AUTHOR])
    assert sorted(me["permissions"]) == expected


async def test_logout_ends_the_session(graphql: GraphQLRunner, sign_in: SignIn) -> None:
    session = await sign_in()
    body = await graphql(LOGOUT, headers=session.headers)
    assert body == {"data": {"logout": {"errors": []}}}
    after = await graphql(ME, headers=session.headers)
    assert after["data"] is None
    assert after["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_logout_needs_a_session(graphql: GraphQLRunner) -> None:
    body = await graphql(LOGOUT)
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_logout_does_not_revoke_api_tokens(graphql: GraphQLRunner, sign_in: SignIn) -> None:
    session = await sign_in()
    await ApiToken.filter(author_id=session.author.id).update(kind=TokenKind.API)
    body = await graphql(LOGOUT, headers=session.headers)
    assert body["data"]["logout"]["errors"][0]["code"] == "BAD_USER_INPUT"
    assert (await graphql(ME, headers=session.headers))["data"]["me"] is not None


@pytest.mark.parametrize(
    "spoil",
    [
        pytest.param({"revoked_at": datetime(2026, 1, 1, tzinfo=UTC)}, id="revoked"),
        pytest.param({"expires_at": datetime(2026, 1, 1, tzinfo=UTC)}, id="expired"),
    ],
)
async def test_a_dead_token_fails_the_whole_request(
    graphql: GraphQLRunner, sign_in: SignIn, spoil: dict
) -> None:
    session = await sign_in()
    await ApiToken.filter(author_id=session.author.id).update(**spoil)
    # Even a public query: the client believes it is signed in and must be told otherwise.
    body = await graphql("query { posts { totalCount } }", headers=session.headers)
    assert body["data"] is None
    [error] = body["errors"]
    assert error["extensions"]["code"] == "UNAUTHENTICATED"


async def test_a_deactivated_authors_token_stops_working(
    graphql: GraphQLRunner, sign_in: SignIn
) -> None:
    session = await sign_in()
    await Author.filter(id=session.author.id).update(is_active=False)
    body = await graphql(ME, headers=session.headers)
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


@pytest.mark.parametrize(
    "header",
    [
        pytest.param("Bearer cms_" + "x" * 43, id="unknown-token"),
        pytest.param("Token {secret}", id="other-scheme"),
        pytest.param("Bearer ", id="empty"),
    ],
)
async def test_a_malformed_or_unknown_bearer_is_unauthenticated(
    graphql: GraphQLRunner, sign_in: SignIn, header: str
) -> None:
    session = await sign_in()
    body = await graphql(ME, headers={"Authorization": header.format(secret=session.token)})
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_a_token_in_the_query_string_or_a_cookie_is_ignored(
    client: httpx.AsyncClient, sign_in: SignIn
) -> None:
    session = await sign_in()
    client.cookies.set("token", session.token)
    client.cookies.set("access_token", session.token)
    response = await client.post(
        "/graphql",
        params={"access_token": session.token, "token": session.token},
        json={"query": ME},
    )
    assert response.json() == {"data": {"me": None}}


async def test_ten_aliased_logins_in_one_request_count_as_ten_attempts(
    graphql: GraphQLRunner, ada: Author
) -> None:
    body = await graphql(aliased_logins(11, email="ada@example.org", password="wrong password"))
    errors = login_errors(body)
    assert errors[:10] == [{"code": "UNAUTHENTICATED", "message": INVALID_LOGIN["message"]}] * 10
    assert errors[10]["code"] == "THROTTLED"
    assert re.fullmatch(
        r"Too many login attempts\. Try again in \d+ seconds\.", errors[10]["message"]
    )


async def test_once_throttled_even_the_right_password_is_refused_without_hashing(
    graphql: GraphQLRunner, ada: Author, monkeypatch: pytest.MonkeyPatch
) -> None:
    await graphql(aliased_logins(10, email="ada@example.org", password="wrong password"))
    checks: list[str] = []
    original_check = PasswordHashing.check

    async def counting_check(self: PasswordHashing, password_hash: str | None, password: str):
        checks.append(password)
        return await original_check(self, password_hash, password)

    monkeypatch.setattr(PasswordHashing, "check", counting_check)
    body = await graphql(LOGIN, {"email": "ada@example.org", "password": PASSWORD})
    login = body["data"]["login"]
    assert login["token"] is None
    assert login["errors"][0]["code"] == "THROTTLED"
    # Ten attempts in any 300 s: the wait is until the oldest of the ten leaves the window.
    wait = re.search(r"Try again in (\d+) seconds", login["errors"][0]["message"])
    assert wait is not None
    assert 1 <= int(wait[1]) <= 300
    assert checks == []


@pytest.fixture
async def clients(settings: Settings) -> AsyncIterator[dict[str, httpx.AsyncClient]]:
    """Clients at two addresses, talking to the same app (so sharing its throttle)."""
    app = create_app(settings, manage_database=False)
    clients = {
        address: httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app, client=(address, 40000)),
            base_url="http://testserver",
        )
        for address in ("192.0.2.1", "192.0.2.2")
    }
    yield clients
    for client in clients.values():
        await client.aclose()


async def login_error_code(client: httpx.AsyncClient, email: str, password: str) -> str | None:
    response = await client.post(
        "/graphql", json={"query": LOGIN, "variables": {"email": email, "password": password}}
    )
    errors = response.json()["data"]["login"]["errors"]
    return errors[0]["code"] if errors else None


# The hostile-client report (#12, item 7): twelve wrong passwords from one address made the
# real admin's correct password from another address fail with THROTTLED.
async def test_a_strangers_failures_do_not_lock_the_owner_out(
    clients: dict[str, httpx.AsyncClient], password_hash: str
) -> None:
    for email in ("ada@example.org", "bob@example.org"):
        await make_author(email=email, password_hash=password_hash)
    stranger, owner = clients["192.0.2.1"], clients["192.0.2.2"]
    response = await stranger.post(
        "/graphql",
        json={"query": aliased_logins(12, email="ada@example.org", password="wrong password")},
    )
    codes = [error["code"] for error in login_errors(response.json())]
    assert codes == ["UNAUTHENTICATED"] * 10 + ["THROTTLED"] * 2
    # The owner, elsewhere, signs in; the stranger stays throttled on that account only.
    assert await login_error_code(owner, "ada@example.org", PASSWORD) is None
    assert await login_error_code(stranger, "ada@example.org", PASSWORD) == "THROTTLED"
    assert await login_error_code(stranger, "bob@example.org", PASSWORD) is None
