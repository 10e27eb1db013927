"""Preview tokens end: `Post.previewTokens`, `revokePreviewToken`, and tokens that lapse when
their issuer may no longer share the post (it changed hands, the issuer was deactivated or
demoted)."""

from __future__ import annotations

from cms.graphql.node import to_global_id
from cms.models import Author, Post, PostStatus, PreviewToken, Role
from tests.conftest import GraphQLRunner, Session, SignIn
from tests.factories import make_post

ERRORS = "errors { code field message }"
CREATE = f"""
mutation($postId: ID!) {{
  createPreviewToken(input: {{postId: $postId, expiresIn: 600}}) {{ token {ERRORS} }}
}}
"""
REVOKE = f"""
mutation($id: ID!) {{
  revokePreviewToken(input: {{id: $id}}) {{ previewToken {{ id revokedAt }} {ERRORS} }}
}}
"""
LIST = """
query($slug: String!) {
  post(slug: $slug) {
    previewTokens { edges { node { id createdAt expiresAt revokedAt createdBy { name } } } }
  }
}
"""
READ = 'query { post(slug: "draft") { slug } }'
REASSIGN = f"""
mutation($id: ID!, $authorId: ID!) {{
  updatePost(input: {{id: $id, expectedVersion: 1, authorId: $authorId}}) {{ {ERRORS} }}
}}
"""
DEACTIVATE = f"mutation($id: ID!) {{ deactivateUser(input: {{id: $id}}) {{ {ERRORS} }} }}"


async def draft_of(author: Author) -> Post:
    return await make_post(author=author, slug="draft", status=PostStatus.DRAFT, published_at=None)


async def share(graphql: GraphQLRunner, session: Session, post: Post) -> str:
    body = await graphql(CREATE, {"postId": to_global_id("Post", post.id)}, headers=session.headers)
    assert body["data"]["createPreviewToken"]["errors"] == [], body
    token: str = body["data"]["createPreviewToken"]["token"]
    return token


async def opens(graphql: GraphQLRunner, token: str) -> bool:
    body = await graphql(READ, headers={"X-Preview-Token": token})
    assert "errors" not in body, body
    return body["data"]["post"] is not None


async def token_id(secret_index: int = -1) -> str:
    rows = await PreviewToken.all().order_by("id")
    return to_global_id("PreviewToken", rows[secret_index].id)


async def test_those_who_may_edit_the_post_list_its_tokens(
    graphql: GraphQLRunner, sign_in: SignIn
) -> None:
    owner = await sign_in(name="Owner")
    editor = await sign_in(Role.EDITOR, name="Editor")
    post = await draft_of(owner.author)
    await share(graphql, owner, post)
    await share(graphql, editor, post)

    for session in (owner, editor):
        body = await graphql(LIST, {"slug": "draft"}, headers=session.headers)
        assert "errors" not in body, body
        listed = [edge["node"] for edge in body["data"]["post"]["previewTokens"]["edges"]]
        assert [node["createdBy"]["name"] for node in listed] == ["Editor", "Owner"]
        assert [node["id"] for node in listed] == [await token_id(1), await token_id(0)]
        assert all(node["revokedAt"] is None for node in listed)


async def test_others_cannot_list_a_posts_tokens(graphql: GraphQLRunner, sign_in: SignIn) -> None:
    owner, stranger = await sign_in(), await sign_in()
    post = await draft_of(owner.author)
    token = await share(graphql, owner, post)
    await Post.filter(id=post.id).update(status=PostStatus.PUBLISHED, published_at=post.created_at)

    denied = await graphql(LIST, {"slug": "draft"}, headers=stranger.headers)
    assert denied["data"] == {"post": {"previewTokens": None}}
    assert denied["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    anonymous = await graphql(LIST, {"slug": "draft"}, headers={"X-Preview-Token": token})
    assert anonymous["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_a_revoked_token_stops_working_at_once(
    graphql: GraphQLRunner, sign_in: SignIn
) -> None:
    owner = await sign_in()
    token = await share(graphql, owner, await draft_of(owner.author))
    assert await opens(graphql, token)

    body = await graphql(REVOKE, {"id": await token_id()}, headers=owner.headers)

    revoked = body["data"]["revokePreviewToken"]
    assert revoked["errors"] == []
    assert revoked["previewToken"]["revokedAt"] is not None
    assert not await opens(graphql, token)
    again = await graphql(REVOKE, {"id": await token_id()}, headers=owner.headers)
    assert again["data"]["revokePreviewToken"]["previewToken"] == revoked["previewToken"]


async def test_only_those_who_may_edit_the_post_revoke_its_tokens(
    graphql: GraphQLRunner, sign_in: SignIn
) -> None:
    owner, stranger = await sign_in(), await sign_in()
    token = await share(graphql, owner, await draft_of(owner.author))

    denied = await graphql(REVOKE, {"id": await token_id()}, headers=stranger.headers)
    assert denied["data"] is None
    assert denied["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    missing = await graphql(
        REVOKE, {"id": to_global_id("PreviewToken", 999)}, headers=owner.headers
    )
    assert missing["data"]["revokePreviewToken"]["errors"] == [
        {"code": "NOT_FOUND", "field": "id", "message": "There is no preview token with id 999."}
    ]
    assert await opens(graphql, token)


async def test_a_token_stops_working_when_the_post_changes_hands(
    graphql: GraphQLRunner, sign_in: SignIn
) -> None:
    owner, editor, heir = await sign_in(), await sign_in(Role.EDITOR), await sign_in()
    post = await draft_of(owner.author)
    owners_token = await share(graphql, owner, post)
    editors_token = await share(graphql, editor, post)

    body = await graphql(
        REASSIGN,
        {"id": to_global_id("Post", post.id), "authorId": to_global_id("Author", heir.author.id)},
        headers=editor.headers,
    )
    assert body["data"]["updatePost"]["errors"] == [], body

    assert not await opens(graphql, owners_token)  # the old author no longer shares this post
    assert await opens(graphql, editors_token)  # an editor still may


async def test_a_token_stops_working_when_its_issuer_is_deactivated(
    graphql: GraphQLRunner, sign_in: SignIn
) -> None:
    admin, owner = await sign_in(Role.ADMIN), await sign_in()
    token = await share(graphql, owner, await draft_of(owner.author))

    body = await graphql(
        DEACTIVATE, {"id": to_global_id("Author", owner.author.id)}, headers=admin.headers
    )
    assert body["data"]["deactivateUser"]["errors"] == []

    assert not await opens(graphql, token)
    assert await PreviewToken.filter(revoked_at__isnull=True).count() == 0


async def test_a_token_stops_working_when_its_issuer_is_demoted(
    graphql: GraphQLRunner, sign_in: SignIn
) -> None:
    owner, editor = await sign_in(), await sign_in(Role.EDITOR)
    token = await share(graphql, editor, await draft_of(owner.author))
    assert await opens(graphql, token)
    await Author.filter(id=editor.author.id).update(role=Role.AUTHOR)
    assert not await opens(graphql, token)
