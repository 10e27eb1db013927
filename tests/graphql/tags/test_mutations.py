"""Managing tags over GraphQL: payloads and payload errors of the four tag mutations."""

from __future__ import annotations

from typing import Any

import pytest

from cms.graphql.node import to_global_id
from cms.models import PostTag, Role, Tag
from tests.conftest import GraphQLRunner, SignIn
from tests.factories import make_post, make_tag

ERRORS = "errors { code field }"
CREATE_TAG = f"""
mutation Create($input: CreateTagInput!) {{
  createTag(input: $input) {{ tag {{ name slug description postCount }} {ERRORS} }}
}}
"""
UPDATE_TAG = f"""
mutation Update($input: UpdateTagInput!) {{
  updateTag(input: $input) {{ tag {{ name slug }} {ERRORS} }}
}}
"""
DELETE_TAG = f"""
mutation Delete($input: DeleteTagInput!) {{ deleteTag(input: $input) {{ deletedId {ERRORS} }} }}
"""
MERGE_TAGS = f"""
mutation Merge($input: MergeTagsInput!) {{
  mergeTags(input: $input) {{ tag {{ slug postCount }} {ERRORS} }}
}}
"""


@pytest.fixture
async def editor(sign_in: SignIn) -> dict[str, str]:
    return (await sign_in(Role.EDITOR)).headers


def tag_id(tag: Tag) -> str:
    return to_global_id("Tag", tag.id)


async def test_create_tag_makes_a_slug_from_the_name(
    graphql: GraphQLRunner, editor: dict[str, str]
) -> None:
    body = await graphql(
        CREATE_TAG, {"input": {"name": "Machine Learning", "description": "ML."}}, headers=editor
    )
    assert body["data"]["createTag"] == {
        "tag": {
            "name": "Machine Learning",
            "slug": "machine-learning",
            "description": "ML.",
            "postCount": 0,
        },
        "errors": [],
    }


@pytest.mark.parametrize(
    ("given", "errors"),
    [
        pytest.param({"name": "PYTHON"}, [("CONFLICT", "name")], id="name-in-another-case"),
        pytest.param({"name": "Py", "slug": "python"}, [("CONFLICT", "slug")], id="slug-taken"),
        pytest.param(
            {"name": "Py", "slug": "Py Thon"}, [("BAD_USER_INPUT", "slug")], id="bad-slug"
        ),
        pytest.param({"name": " "}, [("BAD_USER_INPUT", "name")], id="blank-name"),
        pytest.param({"name": "x" * 101}, [("BAD_USER_INPUT", "name")], id="long-name"),
    ],
)
async def test_create_tag_reports_invalid_or_taken_values(
    graphql: GraphQLRunner, editor: dict[str, str], given: dict[str, Any], errors: list
) -> None:
    await make_tag("Python")
    body = await graphql(CREATE_TAG, {"input": given}, headers=editor)
    result = body["data"]["createTag"]
    assert result["tag"] is None
    assert [(e["code"], e["field"]) for e in result["errors"]] == errors
    assert await Tag.all().count() == 1


async def test_update_tag_renames_it(graphql: GraphQLRunner, editor: dict[str, str]) -> None:
    tag = await make_tag("Golang", slug="golang")
    body = await graphql(
        UPDATE_TAG, {"input": {"id": tag_id(tag), "name": "Go", "slug": "go"}}, headers=editor
    )
    assert body["data"]["updateTag"] == {"tag": {"name": "Go", "slug": "go"}, "errors": []}


async def test_delete_tag_returns_the_deleted_id_then_not_found(
    graphql: GraphQLRunner, editor: dict[str, str]
) -> None:
    tag = await make_tag("Gone")
    first = await graphql(DELETE_TAG, {"input": {"id": tag_id(tag)}}, headers=editor)
    assert first["data"]["deleteTag"] == {"deletedId": tag_id(tag), "errors": []}
    again = await graphql(DELETE_TAG, {"input": {"id": tag_id(tag)}}, headers=editor)
    assert again["data"]["deleteTag"] == {
        "deletedId": None,
        "errors": [{"code": "NOT_FOUND", "field": "id"}],
    }


async def test_merge_tags_moves_posts_to_the_target(
    graphql: GraphQLRunner, editor: dict[str, str]
) -> None:
    py, python = await make_tag("Py"), await make_tag("Python")
    await make_post(tags=(py,))
    await make_post(tags=(py, python))
    body = await graphql(
        MERGE_TAGS, {"input": {"source": tag_id(py), "target": tag_id(python)}}, headers=editor
    )
    assert body["data"]["mergeTags"] == {
        "tag": {"slug": "python", "postCount": 2},
        "errors": [],
    }
    assert await PostTag.filter(tag_id=python.id).count() == 2


async def test_a_tag_cannot_be_merged_into_itself(
    graphql: GraphQLRunner, editor: dict[str, str]
) -> None:
    tag = await make_tag("Solo")
    body = await graphql(
        MERGE_TAGS, {"input": {"source": tag_id(tag), "target": tag_id(tag)}}, headers=editor
    )
    assert body["data"]["mergeTags"]["errors"] == [{"code": "BAD_USER_INPUT", "field": "target"}]
