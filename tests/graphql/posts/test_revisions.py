"""A post's history over GraphQL: `Post.revisions` and `restoreRevision`."""

from __future__ import annotations

from typing import Any

import pytest

from cms.models import Role
from tests.conftest import GraphQLRunner, SignIn

CREATE_POST = """
mutation Create($input: CreatePostInput!) {
  createPost(input: $input) { post { id slug } errors { code field } }
}
"""
UPDATE_POST = """
mutation Update($input: UpdatePostInput!) {
  updatePost(input: $input) { post { version } errors { code field } }
}
"""
REVISIONS = """
query Revisions($slug: String!, $first: Int, $after: String) {
  post(slug: $slug) {
    revisions(first: $first, after: $after) {
      totalCount
      edges { node { id version mutation title tags sections { heading anchor body }
                     editor { name } } }
      pageInfo { hasNextPage endCursor }
    }
  }
}
"""
PUBLISH_POST = """
mutation Publish($input: PublishPostInput!) { publishPost(input: $input) { errors { code } } }
"""
RESTORE_REVISION = """
mutation Restore($input: RestoreRevisionInput!) {
  restoreRevision(input: $input) {
    post { title version sections { body } }
    currentVersion
    errors { code field }
  }
}
"""


async def a_post_with_three_versions(
    graphql: GraphQLRunner, headers: dict[str, str]
) -> dict[str, Any]:
    created = await graphql(
        CREATE_POST,
        {"input": {"title": "V1", "slug": "history", "sections": [{"body": "one"}]}},
        headers=headers,
    )
    post: dict[str, Any] = created["data"]["createPost"]["post"]
    for version, title in ((1, "V2"), (2, "V3")):
        body = await graphql(
            UPDATE_POST,
            {
                "input": {
                    "id": post["id"],
                    "expectedVersion": version,
                    "title": title,
                    "sections": [{"heading": title, "body": title.lower()}],
                }
            },
            headers=headers,
        )
        assert body["data"]["updatePost"]["errors"] == []
    return post


async def test_revisions_list_every_change_newest_first_in_pages(
    graphql: GraphQLRunner, sign_in: SignIn
) -> None:
    session = await sign_in(Role.AUTHOR, name="Ada")
    await a_post_with_three_versions(graphql, session.headers)
    first = await graphql(REVISIONS, {"slug": "history", "first": 2}, headers=session.headers)
    assert "errors" not in first, first
    page = first["data"]["post"]["revisions"]
    assert page["totalCount"] == 3
    nodes = [edge["node"] for edge in page["edges"]]
    assert [(n["version"], n["mutation"], n["title"]) for n in nodes] == [
        (3, "updatePost", "V3"),
        (2, "updatePost", "V2"),
    ]
    assert nodes[0]["sections"] == [{"heading": "V3", "anchor": "v3", "body": "v3"}]
    assert nodes[0]["editor"] == {"name": "Ada"}
    rest = await graphql(
        REVISIONS,
        {"slug": "history", "first": 2, "after": page["pageInfo"]["endCursor"]},
        headers=session.headers,
    )
    [last] = rest["data"]["post"]["revisions"]["edges"]
    assert (last["node"]["version"], last["node"]["mutation"]) == (1, "createPost")
    assert rest["data"]["post"]["revisions"]["pageInfo"]["hasNextPage"] is False


async def test_restoring_an_old_revision_adds_a_new_one(
    graphql: GraphQLRunner, sign_in: SignIn
) -> None:
    session = await sign_in(Role.AUTHOR)
    post = await a_post_with_three_versions(graphql, session.headers)
    listing = await graphql(REVISIONS, {"slug": "history"}, headers=session.headers)
    oldest = listing["data"]["post"]["revisions"]["edges"][-1]["node"]

    stale = await graphql(
        RESTORE_REVISION,
        {"input": {"postId": post["id"], "revisionId": oldest["id"], "expectedVersion": 1}},
        headers=session.headers,
    )
    assert stale["data"]["restoreRevision"]["currentVersion"] == 3
    restored = await graphql(
        RESTORE_REVISION,
        {"input": {"postId": post["id"], "revisionId": oldest["id"], "expectedVersion": 3}},
        headers=session.headers,
    )
    assert restored["data"]["restoreRevision"]["post"] == {
        "title": "V1",
        "version": 4,
        "sections": [{"body": "one"}],
    }
    after = await graphql(REVISIONS, {"slug": "history"}, headers=session.headers)
    versions = [e["node"]["version"] for e in after["data"]["post"]["revisions"]["edges"]]
    assert versions == [4, 3, 2, 1]


@pytest.mark.parametrize(
    ("role", "code"),
    [
        pytest.param(None, "UNAUTHENTICATED", id="anonymous"),
        pytest.param(Role.AUTHOR, "FORBIDDEN", id="another-author"),
    ],
)
async def test_only_those_who_may_edit_a_post_read_its_revisions(
    graphql: GraphQLRunner, sign_in: SignIn, role: Role | None, code: str
) -> None:
    owner = await sign_in(Role.AUTHOR)
    post = await a_post_with_three_versions(graphql, owner.headers)
    editor = await sign_in(Role.EDITOR)
    await graphql(
        PUBLISH_POST, {"input": {"id": post["id"], "expectedVersion": 3}}, headers=editor.headers
    )

    headers = (await sign_in(role)).headers if role else {}
    body = await graphql(REVISIONS, {"slug": "history"}, headers=headers)
    # The post itself is public now; only its history is refused.
    assert body["data"]["post"] == {"revisions": None}
    [error] = body["errors"]
    assert error["extensions"]["code"] == code
    assert error["path"] == ["post", "revisions"]
    assert "V1" not in str(body)
