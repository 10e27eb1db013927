"""Bearer tokens: secrets shown once, stored as digests, and how a request's viewer is found."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime, timedelta

import pytest
from starlette.requests import Request

from cms.auth.backend import authenticate
from cms.auth.tokens import find_active_token, issue_token, new_secret, record_use
from cms.auth.viewer import ANONYMOUS
from cms.errors import Unauthenticated
from cms.models import ApiToken, Role, TokenKind
from cms.permissions import Permission
from tests.factories import make_author

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


async def issue(
    *, kind: TokenKind = TokenKind.SESSION, expires_in: timedelta = timedelta(days=1), **author
) -> tuple[str, ApiToken]:
    owner = await make_author(**author)
    issued = await issue_token(
        author_id=owner.id,
        kind=kind,
        name="test",
        scopes=[Permission.PROFILE_EDIT_OWN.value] if kind is TokenKind.API else None,
        expires_at=NOW + expires_in,
    )
    return issued.secret, issued.token


def request_with(headers: dict[str, str], query_string: str = "") -> Request:
    return Request(
        {
            "type": "http",
            "method": "POST",
            "path": "/graphql",
            "query_string": query_string.encode(),
            "headers": [(name.lower().encode(), value.encode()) for name, value in headers.items()],
        }
    )


def test_secrets_are_prefixed_random_and_url_safe() -> None:
    secrets = {new_secret() for _ in range(100)}
    assert len(secrets) == 100
    for secret in secrets:
        assert re.fullmatch(r"cms_[A-Za-z0-9_-]{43}", secret)


async def test_only_the_digest_and_a_short_prefix_of_the_secret_are_stored() -> None:
    secret, token = await issue()
    row = await ApiToken.filter(id=token.id).values()
    [stored] = row
    assert stored["digest"] == hashlib.sha256(secret.encode()).hexdigest()
    assert stored["prefix"] == secret[:12]
    assert all(secret not in str(value) for value in stored.values())


async def test_an_active_token_is_found_with_its_author() -> None:
    secret, token = await issue(name="Ada")
    found = await find_active_token(secret, now=NOW)
    assert found is not None
    assert found.id == token.id
    assert found.author.name == "Ada"


@pytest.mark.parametrize(
    "secret",
    [
        pytest.param("cms_" + "A" * 43, id="unknown"),
        pytest.param("ghp_" + "A" * 43, id="foreign-prefix"),
        pytest.param("cms_short", id="too-short"),
        pytest.param("cms_" + "A" * 43 + "\x00", id="nul"),
    ],
)
async def test_secrets_we_never_issued_find_nothing(secret: str) -> None:
    await issue()
    assert await find_active_token(secret, now=NOW) is None


async def test_an_expired_token_finds_nothing() -> None:
    secret, _ = await issue(expires_in=timedelta(minutes=5))
    assert await find_active_token(secret, now=NOW + timedelta(minutes=4)) is not None
    assert await find_active_token(secret, now=NOW + timedelta(minutes=5)) is None


async def test_a_revoked_token_finds_nothing() -> None:
    secret, token = await issue()
    await ApiToken.filter(id=token.id).update(revoked_at=NOW)
    assert await find_active_token(secret, now=NOW) is None


async def test_the_token_of_a_deactivated_author_finds_nothing() -> None:
    secret, _ = await issue(is_active=False)
    assert await find_active_token(secret, now=NOW) is None


async def test_use_is_recorded_at_most_once_a_minute() -> None:
    _, token = await issue()
    await record_use(token, now=NOW)
    await record_use(token, now=NOW + timedelta(seconds=30))
    assert (await ApiToken.get(id=token.id)).last_used_at == NOW
    await record_use(token, now=NOW + timedelta(minutes=1))
    assert (await ApiToken.get(id=token.id)).last_used_at == NOW + timedelta(minutes=1)


async def test_a_request_without_credentials_is_anonymous() -> None:
    assert await authenticate(request_with({}), now=NOW) is ANONYMOUS


async def test_a_session_token_acts_with_the_full_role() -> None:
    secret, token = await issue(role=Role.EDITOR)
    viewer = await authenticate(request_with({"Authorization": f"Bearer {secret}"}), now=NOW)
    assert (viewer.author_id, viewer.role, viewer.token_id) == (
        token.author_id,
        Role.EDITOR,
        token.id,
    )
    assert viewer.scopes is None
    assert viewer.can(Permission.TAGS_MANAGE)


async def test_an_api_token_acts_only_within_its_scopes() -> None:
    secret, _ = await issue(kind=TokenKind.API, role=Role.EDITOR)
    viewer = await authenticate(request_with({"Authorization": f"bearer {secret}"}), now=NOW)
    assert viewer.permissions == {Permission.PROFILE_EDIT_OWN}


@pytest.mark.parametrize(
    "header",
    [
        pytest.param("Bearer cms_" + "A" * 43, id="unknown-token"),
        pytest.param("Bearer", id="no-token"),
        pytest.param("Basic dXNlcjpwYXNz", id="basic-auth"),
        pytest.param("{secret}", id="token-without-scheme"),
    ],
)
async def test_bad_credentials_are_refused_not_ignored(header: str) -> None:
    secret, _ = await issue()
    request = request_with({"Authorization": header.format(secret=secret)})
    with pytest.raises(Unauthenticated):
        await authenticate(request, now=NOW)


async def test_tokens_outside_the_authorization_header_are_ignored() -> None:
    secret, _ = await issue()
    request = request_with(
        {"Cookie": f"token={secret}; access_token={secret}"},
        query_string=f"access_token={secret}&token={secret}",
    )
    assert await authenticate(request, now=NOW) is ANONYMOUS
