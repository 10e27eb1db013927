"""Users and roles over GraphQL: who may create users and change roles, and one's own profile.

Each permission test tries the operation with every role that must be refused first, checking
that nothing changed, and only then with a role that is allowed.
"""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher

from cms.graphql.node import to_global_id
from cms.models import Author, Role
from tests.conftest import GraphQLRunner, Session, SignIn
from tests.factories import make_author

PASSWORD = "a long enough password"
CREATE_USER = """
mutation Create($email: String!, $name: String!, $role: Role!, $password: String!) {
  createUser(input: {email: $email, name: $name, role: $role, password: $password}) {
    user { id name slug email role isActive }
    errors { code field message }
  }
}
"""
UPDATE_ROLE = """
mutation Role($id: ID!, $role: Role!) {
  updateUserRole(input: {id: $id, role: $role}) {
    user { email role }
    errors { code field message }
  }
}
"""
UPDATE_PROFILE = """
mutation Profile($name: String, $bio: String) {
  updateProfile(input: {name: $name, bio: $bio}) {
    me { name slug bio }
    errors { code field message }
  }
}
"""
LOGIN = """
mutation Login($email: String!, $password: String!) {
  login(input: {email: $email, password: $password}) { viewer { role } errors { code } }
}
"""


def new_user(**changes: str) -> dict[str, str]:
    return {
        "email": "new@example.org",
        "name": "New Person",
        "role": "AUTHOR",
        "password": PASSWORD,
        **changes,
    }


def top_level_code(body: dict) -> str:
    assert body["data"] is None, body
    code: str = body["errors"][0]["extensions"]["code"]
    return code


async def as_role(sign_in: SignIn, role: Role | None) -> dict[str, str] | None:
    return (await sign_in(role)).headers if role else None


DENIED_USER_MANAGERS = [
    pytest.param(None, "UNAUTHENTICATED", id="anonymous"),
    pytest.param(Role.AUTHOR, "FORBIDDEN", id="author"),
    pytest.param(Role.EDITOR, "FORBIDDEN", id="editor"),
]


@pytest.mark.parametrize(("role", "code"), DENIED_USER_MANAGERS)
async def test_only_admins_create_users(
    graphql: GraphQLRunner, sign_in: SignIn, role: Role | None, code: str
) -> None:
    body = await graphql(CREATE_USER, new_user(), headers=await as_role(sign_in, role))
    assert top_level_code(body) == code
    assert not await Author.filter(email="new@example.org").exists()
    admin = await sign_in(Role.ADMIN)
    allowed = await graphql(CREATE_USER, new_user(), headers=admin.headers)
    assert allowed["data"]["createUser"]["errors"] == []
    assert await Author.filter(email="new@example.org").exists()


async def test_a_created_user_can_log_in_with_their_password(
    graphql: GraphQLRunner, sign_in: SignIn
) -> None:
    admin = await sign_in(Role.ADMIN)
    variables = new_user(email="  Grace@Example.ORG", name="Grace Hopper", role="EDITOR")
    body = await graphql(CREATE_USER, variables, headers=admin.headers)
    user = body["data"]["createUser"]["user"]
    assert user["email"] == "grace@example.org"
    assert (user["slug"], user["role"], user["isActive"]) == ("grace-hopper", "EDITOR", True)
    stored = await Author.get(email="grace@example.org")
    assert stored.password_hash is not None
    assert PASSWORD not in stored.password_hash
    PasswordHasher().verify(stored.password_hash, PASSWORD)
    login = await graphql(LOGIN, {"email": "grace@example.org", "password": PASSWORD})
    assert login["data"]["login"] == {"viewer": {"role": "EDITOR"}, "errors": []}


async def test_a_taken_name_gets_a_numbered_slug(graphql: GraphQLRunner, sign_in: SignIn) -> None:
    admin = await sign_in(Role.ADMIN)
    await make_author(name="Grace Hopper", slug="grace-hopper")
    body = await graphql(CREATE_USER, new_user(name="Grace Hopper"), headers=admin.headers)
    assert body["data"]["createUser"]["user"]["slug"] == "grace-hopper-2"


async def test_an_email_is_used_by_one_account_only(
    graphql: GraphQLRunner, sign_in: SignIn
) -> None:
    admin = await sign_in(Role.ADMIN)
    await make_author(email="new@example.org")
    body = await graphql(CREATE_USER, new_user(email="NEW@example.org"), headers=admin.headers)
    payload = body["data"]["createUser"]
    assert payload["user"] is None
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [("CONFLICT", "email")]


async def test_every_invalid_field_is_reported_and_nothing_is_created(
    graphql: GraphQLRunner, sign_in: SignIn
) -> None:
    admin = await sign_in(Role.ADMIN)
    variables = new_user(email="not an address", name=" ", password="short")
    body = await graphql(CREATE_USER, variables, headers=admin.headers)
    errors = body["data"]["createUser"]["errors"]
    assert {(e["code"], e["field"]) for e in errors} == {
        ("BAD_USER_INPUT", "email"),
        ("BAD_USER_INPUT", "name"),
        ("BAD_USER_INPUT", "password"),
    }
    assert await Author.all().count() == 1  # the admin


@pytest.mark.parametrize(("role", "code"), DENIED_USER_MANAGERS)
async def test_only_admins_change_roles(
    graphql: GraphQLRunner, sign_in: SignIn, role: Role | None, code: str
) -> None:
    target = await make_author(email="target@example.org", role=Role.AUTHOR)
    variables = {"id": to_global_id("Author", target.id), "role": "EDITOR"}
    body = await graphql(UPDATE_ROLE, variables, headers=await as_role(sign_in, role))
    assert top_level_code(body) == code
    assert (await Author.get(id=target.id)).role == Role.AUTHOR
    admin = await sign_in(Role.ADMIN)
    allowed = await graphql(UPDATE_ROLE, variables, headers=admin.headers)
    assert allowed["data"]["updateUserRole"] == {
        "user": {"email": "target@example.org", "role": "EDITOR"},
        "errors": [],
    }
    assert (await Author.get(id=target.id)).role == Role.EDITOR


async def test_an_author_cannot_change_their_own_role(
    graphql: GraphQLRunner, sign_in: SignIn
) -> None:
    session = await sign_in(Role.AUTHOR)
    variables = {"id": to_global_id("Author", session.author.id), "role": "ADMIN"}
    assert top_level_code(await graphql(UPDATE_ROLE, variables, headers=session.headers)) == (
        "FORBIDDEN"
    )
    assert (await Author.get(id=session.author.id)).role == Role.AUTHOR


async def test_an_admin_cannot_demote_themselves(graphql: GraphQLRunner, sign_in: SignIn) -> None:
    admin = await sign_in(Role.ADMIN)
    variables = {"id": to_global_id("Author", admin.author.id), "role": "AUTHOR"}
    body = await graphql(UPDATE_ROLE, variables, headers=admin.headers)
    assert body["data"]["updateUserRole"]["errors"][0]["code"] == "BAD_USER_INPUT"
    assert (await Author.get(id=admin.author.id)).role == Role.ADMIN


async def test_a_role_change_applies_to_existing_sessions_at_once(
    graphql: GraphQLRunner, sign_in: SignIn
) -> None:
    editor, admin = await sign_in(Role.EDITOR), await sign_in(Role.ADMIN)
    variables = {"id": to_global_id("Author", editor.author.id), "role": "AUTHOR"}
    await graphql(UPDATE_ROLE, variables, headers=admin.headers)
    me = await graphql("query { me { role } }", headers=editor.headers)
    assert me["data"]["me"]["role"] == "AUTHOR"


async def test_changing_the_role_of_a_missing_author_is_not_found(
    graphql: GraphQLRunner, sign_in: SignIn
) -> None:
    admin = await sign_in(Role.ADMIN)
    variables = {"id": to_global_id("Author", 999_999), "role": "EDITOR"}
    body = await graphql(UPDATE_ROLE, variables, headers=admin.headers)
    assert body["data"]["updateUserRole"]["errors"][0]["code"] == "NOT_FOUND"


async def test_anonymous_readers_have_no_profile_to_edit(graphql: GraphQLRunner) -> None:
    assert top_level_code(await graphql(UPDATE_PROFILE, {"bio": "x"})) == "UNAUTHENTICATED"


@pytest.mark.parametrize("role", [Role.AUTHOR, Role.EDITOR, Role.ADMIN])
async def test_everyone_signed_in_edits_their_own_profile(
    graphql: GraphQLRunner, sign_in: SignIn, role: Role
) -> None:
    session: Session = await sign_in(role, name="Old Name", slug="old-name")
    body = await graphql(UPDATE_PROFILE, {"name": " New Name "}, headers=session.headers)
    # The slug stays, so links to the author's page keep working; the bio is left alone.
    assert body["data"]["updateProfile"] == {
        "me": {"name": "New Name", "slug": "old-name", "bio": ""},
        "errors": [],
    }
    body = await graphql(UPDATE_PROFILE, {"bio": "Writes."}, headers=session.headers)
    assert body["data"]["updateProfile"]["me"] == {
        "name": "New Name",
        "slug": "old-name",
        "bio": "Writes.",
    }


@pytest.mark.parametrize(
    ("variables", "field"),
    [
        pytest.param({"name": ""}, "name", id="empty-name"),
        pytest.param({"name": "x" * 201}, "name", id="overlong-name"),
        pytest.param({"bio": "x" * 5001}, "bio", id="overlong-bio"),
        pytest.param({"bio": "nul \x00"}, "bio", id="nul-in-bio"),
    ],
)
async def test_an_invalid_profile_changes_nothing(
    graphql: GraphQLRunner, sign_in: SignIn, variables: dict, field: str
) -> None:
    session = await sign_in(name="Kept")
    body = await graphql(UPDATE_PROFILE, {"bio": "fine", **variables}, headers=session.headers)
    payload = body["data"]["updateProfile"]
    assert payload["me"] is None
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [("BAD_USER_INPUT", field)]
    stored = await Author.get(id=session.author.id)
    assert (stored.name, stored.bio) == ("Kept", "")
