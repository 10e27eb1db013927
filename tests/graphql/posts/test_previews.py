"""Preview tokens over HTTP: the `X-Preview-Token` header opens one draft to anonymous readers."""

from __future__ import annotations

from datetime import timedelta

from cms.graphql.node import to_global_id
from cms.models import Post, PostStatus, PreviewToken, Role
from tests.conftest import GraphQLRunner, SignIn
from tests.factories import make_post

CREATE_PREVIEW_TOKEN = """
mutation Preview($input: CreatePreviewTokenInput!) {
  createPreviewToken(input: $input) { token expiresAt post { slug } errors { code field } }
}
"""
READ = """
query Read($slug: String!) {
  post(slug: $slug) { slug status sections { body } }
  posts(first: 10) { edges { node { slug } } }
}
"""


async def issue(graphql: GraphQLRunner, sign_in: SignIn, *, expires_in: int = 600) -> str:
    session = await sign_in(Role.AUTHOR)
    for slug in ("draft", "other-draft"):
        await make_post(
            author=session.author,
            slug=slug,
            status=PostStatus.DRAFT,
            published_at=None,
            sections=((None, f"Body of {slug}"),),
        )
    await make_post(slug="live")
    draft_id = to_global_id("Post", (await Post.get(slug="draft")).id)
    body = await graphql(
        CREATE_PREVIEW_TOKEN,
        {"input": {"postId": draft_id, "expiresIn": expires_in}},
        headers=session.headers,
    )
    result = body["data"]["createPreviewToken"]
    assert result["errors"] == []
    assert result["post"] == {"slug": "draft"}
    token: str = result["token"]
    return token


async def test_the_token_lets_an_anonymous_reader_see_that_one_draft(
    graphql: GraphQLRunner, sign_in: SignIn
) -> None:
    token = await issue(graphql, sign_in)
    body = await graphql(READ, {"slug": "draft"}, headers={"X-Preview-Token": token})
    assert body["data"]["post"] == {
        "slug": "draft",
        "status": "DRAFT",
        "sections": [{"body": "Body of draft"}],
    }
    listed = {edge["node"]["slug"] for edge in body["data"]["posts"]["edges"]}
    assert listed == {"draft", "live"}  # never "other-draft"
    other = await graphql(READ, {"slug": "other-draft"}, headers={"X-Preview-Token": token})
    assert other["data"]["post"] is None


async def test_without_the_header_nothing_changes(graphql: GraphQLRunner, sign_in: SignIn) -> None:
    await issue(graphql, sign_in)
    body = await graphql(READ, {"slug": "draft"})
    assert body["data"]["post"] is None
    assert [edge["node"]["slug"] for edge in body["data"]["posts"]["edges"]] == ["live"]


async def test_an_expired_or_forged_token_opens_nothing(
    graphql: GraphQLRunner, sign_in: SignIn
) -> None:
    token = await issue(graphql, sign_in)
    row = await PreviewToken.get()
    await PreviewToken.filter(id=row.id).update(expires_at=row.created_at - timedelta(seconds=1))
    for header in (token, token + "x", "cms_preview_forged"):
        body = await graphql(READ, {"slug": "draft"}, headers={"X-Preview-Token": header})
        assert "errors" not in body
        assert body["data"]["post"] is None


async def test_expires_in_is_bounded(graphql: GraphQLRunner, sign_in: SignIn) -> None:
    session = await sign_in(Role.AUTHOR)
    post = await make_post(author=session.author, status=PostStatus.DRAFT, published_at=None)
    body = await graphql(
        CREATE_PREVIEW_TOKEN,
        {"input": {"postId": to_global_id("Post", post.id), "expiresIn": 8 * 86400}},
        headers=session.headers,
    )
    result = body["data"]["createPreviewToken"]
    assert result["token"] is None
    assert result["errors"] == [{"code": "BAD_USER_INPUT", "field": "expiresIn"}]
