"""Writing posts over GraphQL: payloads, payload errors, conflicts, trash and publishing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from cms.graphql.node import to_global_id
from cms.models import Post, PostStatus, Revision, Role, Section
from tests.conftest import GraphQLRunner, SignIn
from tests.factories import make_post, make_tag

POST_FIELDS = """
id slug title excerpt status publishedAt version updatedAt deletedAt
tags { slug }
sections { id position heading anchor body }
"""
ERRORS = "errors { code field message }"

CREATE_POST = f"""
mutation Create($input: CreatePostInput!) {{
  createPost(input: $input) {{ post {{ {POST_FIELDS} }} {ERRORS} }}
}}
"""
UPDATE_POST = f"""
mutation Update($input: UpdatePostInput!) {{
  updatePost(input: $input) {{ post {{ {POST_FIELDS} }} currentVersion {ERRORS} }}
}}
"""
DELETE_POST = f"""
mutation Delete($input: DeletePostInput!) {{
  deletePost(input: $input) {{ post {{ id deletedAt version }} {ERRORS} }}
}}
"""
RESTORE_POST = f"""
mutation Restore($input: RestorePostInput!) {{
  restorePost(input: $input) {{ post {{ id deletedAt version }} {ERRORS} }}
}}
"""
PUBLISH_POST = f"""
mutation Publish($input: PublishPostInput!) {{
  publishPost(input: $input) {{ post {{ status publishedAt version }} currentVersion {ERRORS} }}
}}
"""
ADD_SECTION = f"""
mutation Add($input: AddSectionInput!) {{
  addSection(input: $input) {{
    section {{ position heading anchor }} post {{ version sections {{ anchor }} }} {ERRORS}
  }}
}}
"""
MOVE_SECTION = f"""
mutation Move($input: MoveSectionInput!) {{
  moveSection(input: $input) {{
    section {{ position }} post {{ version sections {{ heading }} }} currentVersion {ERRORS}
  }}
}}
"""
POST_BY_SLUG = """
query Post($slug: String!) { post(slug: $slug) { slug status } }
"""
POST_SLUGS = """
query Slugs { posts(first: 100) { totalCount edges { node { slug } } } }
"""


def payload(body: dict[str, Any], field: str) -> dict[str, Any]:
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"][field]
    return result


async def test_an_author_creates_a_draft_with_sections_and_tags(
    graphql: GraphQLRunner, sign_in: SignIn
) -> None:
    session = await sign_in(Role.AUTHOR)
    await make_tag("News")
    body = await graphql(
        CREATE_POST,
        {
            "input": {
                "title": "Hello, world",
                "excerpt": "A first post.",
                "tags": ["news"],
                "sections": [{"body": "Intro."}, {"heading": "Setup", "body": "Steps."}],
            }
        },
        headers=session.headers,
    )
    result = payload(body, "createPost")
    assert result["errors"] == []
    post = result["post"]
    assert (post["slug"], post["status"], post["version"], post["publishedAt"]) == (
        "hello-world",
        "DRAFT",
        1,
        None,
    )
    assert post["tags"] == [{"slug": "news"}]
    assert [(s["position"], s["anchor"]) for s in post["sections"]] == [(0, "intro"), (1, "setup")]
    # A draft: its author reads it, anonymous readers do not.
    assert (await graphql(POST_BY_SLUG, {"slug": "hello-world"}))["data"]["post"] is None
    mine = await graphql(POST_BY_SLUG, {"slug": "hello-world"}, headers=session.headers)
    assert mine["data"]["post"] == {"slug": "hello-world", "status": "DRAFT"}


async def test_invalid_input_comes_back_as_payload_errors_and_writes_nothing(
    graphql: GraphQLRunner, sign_in: SignIn
) -> None:
    session = await sign_in(Role.AUTHOR)
    body = await graphql(
        CREATE_POST,
        {
            "input": {
                "title": "",
                "slug": "Not A Slug",
                "tags": ["missing"],
                "sections": [{"body": "ok"}, {"heading": "h" * 201, "body": "x"}],
            }
        },
        headers=session.headers,
    )
    result = payload(body, "createPost")
    assert result["post"] is None
    assert [(e["code"], e["field"]) for e in result["errors"]] == [
        ("BAD_USER_INPUT", "title"),
        ("BAD_USER_INPUT", "slug"),
        ("BAD_USER_INPUT", "sections.1.heading"),
    ]
    assert await Post.all().count() == 0


async def test_unknown_tags_are_an_error_not_silently_dropped(
    graphql: GraphQLRunner, sign_in: SignIn
) -> None:
    session = await sign_in(Role.AUTHOR)
    await make_tag("News")
    body = await graphql(
        CREATE_POST, {"input": {"title": "T", "tags": ["news", "nope"]}}, headers=session.headers
    )
    [error] = payload(body, "createPost")["errors"]
    assert (error["code"], error["field"]) == ("BAD_USER_INPUT", "tags")
    assert "'nope'" in error["message"]
    assert await Post.all().count() == 0


async def test_a_stale_update_is_a_conflict_with_the_current_version(
    graphql: GraphQLRunner, sign_in: SignIn
) -> None:
    session = await sign_in(Role.AUTHOR)
    post = await make_post(author=session.author, title="Original")
    post_id = to_global_id("Post", post.id)
    first = await graphql(
        UPDATE_POST,
        {"input": {"id": post_id, "expectedVersion": 1, "title": "Mine"}},
        headers=session.headers,
    )
    assert payload(first, "updatePost")["post"]["version"] == 2

    stale = await graphql(
        UPDATE_POST,
        {"input": {"id": post_id, "expectedVersion": 1, "title": "Theirs"}},
        headers=session.headers,
    )
    result = payload(stale, "updatePost")
    assert result["post"] is None
    assert result["currentVersion"] == 2
    [error] = result["errors"]
    assert (error["code"], error["field"]) == ("CONFLICT", "expectedVersion")
    assert "version 2" in error["message"]
    assert (await Post.get(id=post.id)).title == "Mine"


async def test_update_changes_updated_at_and_keeps_what_was_not_given(
    graphql: GraphQLRunner, sign_in: SignIn
) -> None:
    session = await sign_in(Role.AUTHOR)
    post = await make_post(author=session.author, excerpt="Kept.", tags=(await make_tag("A"),))
    before = post.updated_at
    body = await graphql(
        UPDATE_POST,
        {"input": {"id": to_global_id("Post", post.id), "expectedVersion": 1, "slug": "moved"}},
        headers=session.headers,
    )
    updated = payload(body, "updatePost")["post"]
    assert (updated["slug"], updated["excerpt"], updated["tags"]) == (
        "moved",
        "Kept.",
        [{"slug": "a"}],
    )
    assert datetime.fromisoformat(updated["updatedAt"]) > before


@pytest.mark.parametrize(
    ("post_id", "field"),
    [
        pytest.param("not-an-id", "id", id="garbage"),
        pytest.param(to_global_id("Tag", 1), "id", id="id-of-a-tag"),
        pytest.param(to_global_id("Post", 999_999), "id", id="no-such-post"),
        pytest.param(to_global_id("Post", 2**40), "id", id="beyond-any-key"),
    ],
)
async def test_a_bad_post_id_is_a_payload_error(
    graphql: GraphQLRunner, sign_in: SignIn, post_id: str, field: str
) -> None:
    session = await sign_in(Role.EDITOR)
    body = await graphql(
        UPDATE_POST,
        {"input": {"id": post_id, "expectedVersion": 1, "title": "x"}},
        headers=session.headers,
    )
    [error] = payload(body, "updatePost")["errors"]
    assert error["field"] == field
    assert error["code"] in {"BAD_USER_INPUT", "NOT_FOUND"}


async def test_a_trashed_post_is_hidden_even_from_its_author_until_restored(
    graphql: GraphQLRunner, sign_in: SignIn
) -> None:
    session = await sign_in(Role.AUTHOR)
    await make_post(author=session.author, slug="gone", status=PostStatus.DRAFT, published_at=None)
    post = await Post.get(slug="gone")
    post_id = to_global_id("Post", post.id)

    deleted = payload(
        await graphql(DELETE_POST, {"input": {"id": post_id}}, headers=session.headers),
        "deletePost",
    )
    assert deleted["post"]["deletedAt"] is not None
    assert (await graphql(POST_BY_SLUG, {"slug": "gone"}, headers=session.headers))["data"][
        "post"
    ] is None
    listed = await graphql(POST_SLUGS, headers=session.headers)
    assert listed["data"]["posts"]["totalCount"] == 0

    restored = payload(
        await graphql(
            RESTORE_POST, {"input": {"id": post_id, "expectedVersion": 2}}, headers=session.headers
        ),
        "restorePost",
    )
    assert restored["post"] == {"id": post_id, "deletedAt": None, "version": 3}
    visible = await graphql(POST_BY_SLUG, {"slug": "gone"}, headers=session.headers)
    assert visible["data"]["post"] == {"slug": "gone", "status": "DRAFT"}


async def test_publishing_now_makes_a_draft_public(graphql: GraphQLRunner, sign_in: SignIn) -> None:
    session = await sign_in(Role.AUTHOR)
    post = await make_post(
        author=session.author, slug="news", status=PostStatus.DRAFT, published_at=None
    )
    body = await graphql(
        PUBLISH_POST,
        {"input": {"id": to_global_id("Post", post.id), "expectedVersion": 1}},
        headers=session.headers,
    )
    published = payload(body, "publishPost")["post"]
    assert published["status"] == "PUBLISHED"
    assert published["publishedAt"] is not None
    public = await graphql(POST_BY_SLUG, {"slug": "news"})
    assert public["data"]["post"] == {"slug": "news", "status": "PUBLISHED"}


async def test_publishing_in_the_future_schedules_and_hides_until_then(
    graphql: GraphQLRunner, sign_in: SignIn
) -> None:
    session = await sign_in(Role.AUTHOR)
    post = await make_post(
        author=session.author, slug="soon", status=PostStatus.DRAFT, published_at=None
    )
    at = (datetime.now(UTC) + timedelta(hours=1)).replace(microsecond=0)
    body = await graphql(
        PUBLISH_POST,
        {
            "input": {
                "id": to_global_id("Post", post.id),
                "expectedVersion": 1,
                "at": at.isoformat(),
            }
        },
        headers=session.headers,
    )
    scheduled = payload(body, "publishPost")["post"]
    assert scheduled["status"] == "SCHEDULED"
    assert datetime.fromisoformat(scheduled["publishedAt"]) == at
    assert (await graphql(POST_BY_SLUG, {"slug": "soon"}))["data"]["post"] is None


async def test_section_mutations_bump_the_version_and_keep_anchors_unique(
    graphql: GraphQLRunner, sign_in: SignIn
) -> None:
    session = await sign_in(Role.AUTHOR)
    post = await make_post(author=session.author, sections=((None, "i"), ("Setup", "s")))
    added = payload(
        await graphql(
            ADD_SECTION,
            {
                "input": {
                    "postId": to_global_id("Post", post.id),
                    "expectedVersion": 1,
                    "section": {"heading": "Setup", "body": "again"},
                    "position": 1,
                }
            },
            headers=session.headers,
        ),
        "addSection",
    )
    assert added["section"] == {"position": 1, "heading": "Setup", "anchor": "setup"}
    assert added["post"]["version"] == 2
    assert [s["anchor"] for s in added["post"]["sections"]] == ["intro", "setup", "setup-2"]

    intro = await Section.get(post_id=post.id, position=0)
    stale = payload(
        await graphql(
            MOVE_SECTION,
            {
                "input": {
                    "sectionId": to_global_id("Section", intro.id),
                    "expectedVersion": 1,
                    "position": 2,
                }
            },
            headers=session.headers,
        ),
        "moveSection",
    )
    assert (stale["errors"][0]["code"], stale["currentVersion"]) == ("CONFLICT", 2)
    moved = payload(
        await graphql(
            MOVE_SECTION,
            {
                "input": {
                    "sectionId": to_global_id("Section", intro.id),
                    "expectedVersion": 2,
                    "position": 2,
                }
            },
            headers=session.headers,
        ),
        "moveSection",
    )
    assert moved["section"] == {"position": 2}
    assert [s["heading"] for s in moved["post"]["sections"]] == ["Setup", "Setup", None]
    assert await Revision.filter(post_id=post.id).count() == 2


TWO_EDITS = """
mutation TwoEdits($add: AddSectionInput!, $update: UpdatePostInput!) {
  addSection(input: $add) { post { version sections { body } tags { slug } } errors { code } }
  updatePost(input: $update) { post { version sections { body } tags { slug } } errors { code } }
}
"""


async def test_each_mutation_of_one_document_shows_its_own_result(
    graphql: GraphQLRunner, sign_in: SignIn
) -> None:
    session = await sign_in(Role.AUTHOR)
    await make_tag("New")
    post = await make_post(author=session.author, sections=((None, "first"),))
    post_id = to_global_id("Post", post.id)
    body = await graphql(
        TWO_EDITS,
        {
            "add": {"postId": post_id, "expectedVersion": 1, "section": {"body": "second"}},
            "update": {
                "id": post_id,
                "expectedVersion": 2,
                "tags": ["new"],
                "sections": [{"body": "replaced"}],
            },
        },
        headers=session.headers,
    )
    assert "errors" not in body, body
    assert body["data"]["addSection"]["post"] == {
        "version": 2,
        "sections": [{"body": "first"}, {"body": "second"}],
        "tags": [],
    }
    assert body["data"]["updatePost"]["post"] == {
        "version": 3,
        "sections": [{"body": "replaced"}],
        "tags": [{"slug": "new"}],
    }
