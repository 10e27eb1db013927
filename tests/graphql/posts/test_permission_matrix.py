"""Every content and account mutation by every role: who is turned away, and that the same call
then works.

Each denied case proves two things: the viewer gets a top-level UNAUTHENTICATED or FORBIDDEN
error (or, for objects whose very existence is private, a NOT_FOUND payload error) and nothing
is written; then the very same request, sent by someone allowed, succeeds, so the denial was
about the viewer and not a broken request.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from enum import Enum
from typing import Any

import pytest
from argon2 import PasswordHasher

from cms.auth.tokens import issue_token
from cms.graphql.node import to_global_id
from cms.models import (
    ApiToken,
    Author,
    Post,
    PreviewToken,
    Revision,
    Role,
    Section,
    Tag,
    TokenKind,
)
from cms.services.snapshots import record_revision
from tests.conftest import GraphQLRunner, SignIn
from tests.factories import make_author, make_post, make_tag

ERRORS = "errors { code field message }"

CREATE_POST = f"""
mutation($input: CreatePostInput!) {{ createPost(input: $input) {{ post {{ id }} {ERRORS} }} }}
"""
UPDATE_POST = f"""
mutation($input: UpdatePostInput!) {{ updatePost(input: $input) {{ post {{ id }} {ERRORS} }} }}
"""
DELETE_POST = f"""
mutation($input: DeletePostInput!) {{ deletePost(input: $input) {{ post {{ id }} {ERRORS} }} }}
"""
RESTORE_POST = f"""
mutation($input: RestorePostInput!) {{ restorePost(input: $input) {{ post {{ id }} {ERRORS} }} }}
"""
PUBLISH_POST = f"""
mutation($input: PublishPostInput!) {{ publishPost(input: $input) {{ post {{ id }} {ERRORS} }} }}
"""
UNPUBLISH_POST = f"""
mutation($input: UnpublishPostInput!) {{
  unpublishPost(input: $input) {{ post {{ id }} {ERRORS} }}
}}
"""
ADD_SECTION = f"""
mutation($input: AddSectionInput!) {{ addSection(input: $input) {{ section {{ id }} {ERRORS} }} }}
"""
UPDATE_SECTION = f"""
mutation($input: UpdateSectionInput!) {{
  updateSection(input: $input) {{ section {{ id }} {ERRORS} }}
}}
"""
MOVE_SECTION = f"""
mutation($input: MoveSectionInput!) {{ moveSection(input: $input) {{ section {{ id }} {ERRORS} }} }}
"""
DELETE_SECTION = f"""
mutation($input: DeleteSectionInput!) {{
  deleteSection(input: $input) {{ post {{ id }} {ERRORS} }}
}}
"""
RESTORE_REVISION = f"""
mutation($input: RestoreRevisionInput!) {{
  restoreRevision(input: $input) {{ post {{ id }} {ERRORS} }}
}}
"""
CREATE_PREVIEW_TOKEN = f"""
mutation($input: CreatePreviewTokenInput!) {{
  createPreviewToken(input: $input) {{ token {ERRORS} }}
}}
"""
CREATE_TAG = f"""
mutation($input: CreateTagInput!) {{ createTag(input: $input) {{ tag {{ id }} {ERRORS} }} }}
"""
UPDATE_TAG = f"""
mutation($input: UpdateTagInput!) {{ updateTag(input: $input) {{ tag {{ id }} {ERRORS} }} }}
"""
DELETE_TAG = f"""
mutation($input: DeleteTagInput!) {{ deleteTag(input: $input) {{ deletedId {ERRORS} }} }}
"""
DEACTIVATE_USER = f"""
mutation($input: DeactivateUserInput!) {{
  deactivateUser(input: $input) {{ user {{ id }} {ERRORS} }}
}}
"""
REACTIVATE_USER = f"""
mutation($input: ReactivateUserInput!) {{
  reactivateUser(input: $input) {{ user {{ id }} {ERRORS} }}
}}
"""
CHANGE_PASSWORD = f"""
mutation($input: ChangePasswordInput!) {{
  changePassword(input: $input) {{ endedSessions {ERRORS} }}
}}
"""
REVOKE_SESSION = f"""
mutation($input: RevokeSessionInput!) {{
  revokeSession(input: $input) {{ session {{ id }} {ERRORS} }}
}}
"""
REVOKE_PREVIEW_TOKEN = f"""
mutation($input: RevokePreviewTokenInput!) {{
  revokePreviewToken(input: $input) {{ previewToken {{ id }} {ERRORS} }}
}}
"""
MERGE_TAGS = f"""
mutation($input: MergeTagsInput!) {{ mergeTags(input: $input) {{ tag {{ id }} {ERRORS} }} }}
"""


class Who(Enum):
    ANONYMOUS = "anonymous"
    AUTHOR_OWN = "author-own-post"
    AUTHOR_OTHER = "author-others-post"
    EDITOR = "editor"
    ADMIN = "admin"


SIGNED_IN = frozenset(Who) - {Who.ANONYMOUS}
POST_EDITORS = frozenset({Who.AUTHOR_OWN, Who.EDITOR, Who.ADMIN})
TAG_MANAGERS = frozenset({Who.EDITOR, Who.ADMIN})
ADMINS = frozenset({Who.ADMIN})
# Every author of the matrix has this password, so that changePassword can succeed for each.
PASSWORD = "the matrix password"
PASSWORD_HASH = PasswordHasher().hash(PASSWORD)


@dataclass
class World:
    """A published post by ``owner`` with two sections, a revision and a preview token, two
    tags, and ``member``: another author with a session."""

    owner: Author
    post: Post
    section: Section
    revision: Revision
    tag: Tag
    other_tag: Tag
    member: Author
    member_session: ApiToken
    preview_token: PreviewToken

    @property
    def post_id(self) -> str:
        return to_global_id("Post", self.post.id)

    @property
    def section_id(self) -> str:
        return to_global_id("Section", self.section.id)


async def build_world() -> World:
    owner = await make_author(role=Role.AUTHOR, password_hash=PASSWORD_HASH)
    tag, other_tag = await make_tag("News"), await make_tag("Old")
    post = await make_post(
        author=owner, tags=(tag,), sections=((None, "Intro."), ("Setup", "Steps."))
    )
    revision = await record_revision(post, editor_id=owner.id, mutation="createPost")
    section = await Section.get(post=post, position=1)
    member = await make_author(role=Role.AUTHOR)
    later = post.created_at + timedelta(days=3650)
    member_session = await issue_token(
        author_id=member.id, kind=TokenKind.SESSION, name="session", expires_at=later
    )
    preview_token = await PreviewToken.create(
        post=post, digest="0" * 64, created_by=owner, expires_at=later
    )
    return World(
        owner,
        post,
        section,
        revision,
        tag,
        other_tag,
        member,
        member_session.token,
        preview_token,
    )


async def trash(world: World) -> None:
    await Post.filter(id=world.post.id).update(deleted_at=world.post.created_at)


async def deactivate_member(world: World) -> None:
    await Author.filter(id=world.member.id).update(is_active=False)


@dataclass(frozen=True)
class Case:
    field: str
    document: str
    variables: Callable[[World], dict[str, Any]]
    allowed: frozenset[Who]
    prepare: Callable[[World], Awaitable[None]] | None = None
    # Signed-in callers who may not act are told the object does not exist (NOT_FOUND in the
    # payload), so that its id reveals nothing about other people's sessions.
    hidden: bool = False


CASES = [
    Case(
        "createPost",
        CREATE_POST,
        lambda w: {"title": "New", "tags": ["news"], "sections": [{"body": "Hi"}]},
        SIGNED_IN,
    ),
    Case(
        "updatePost",
        UPDATE_POST,
        lambda w: {"id": w.post_id, "expectedVersion": 1, "title": "T"},
        POST_EDITORS,
    ),
    Case(
        "updatePost",
        UPDATE_POST,
        lambda w: {
            "id": w.post_id,
            "expectedVersion": 1,
            "authorId": to_global_id("Author", w.owner.id + 1000),
        },
        TAG_MANAGERS,  # changing the author: editors and admins only
    ),
    Case("deletePost", DELETE_POST, lambda w: {"id": w.post_id}, POST_EDITORS),
    Case("restorePost", RESTORE_POST, lambda w: {"id": w.post_id}, POST_EDITORS, prepare=trash),
    Case(
        "publishPost", PUBLISH_POST, lambda w: {"id": w.post_id, "expectedVersion": 1}, POST_EDITORS
    ),
    Case(
        "unpublishPost",
        UNPUBLISH_POST,
        lambda w: {"id": w.post_id, "expectedVersion": 1},
        POST_EDITORS,
    ),
    Case(
        "addSection",
        ADD_SECTION,
        lambda w: {"postId": w.post_id, "expectedVersion": 1, "section": {"body": "More"}},
        POST_EDITORS,
    ),
    Case(
        "updateSection",
        UPDATE_SECTION,
        lambda w: {"sectionId": w.section_id, "expectedVersion": 1, "body": "Changed"},
        POST_EDITORS,
    ),
    Case(
        "moveSection",
        MOVE_SECTION,
        lambda w: {"sectionId": w.section_id, "expectedVersion": 1, "position": 0},
        POST_EDITORS,
    ),
    Case(
        "deleteSection",
        DELETE_SECTION,
        lambda w: {"sectionId": w.section_id, "expectedVersion": 1},
        POST_EDITORS,
    ),
    Case(
        "restoreRevision",
        RESTORE_REVISION,
        lambda w: {
            "postId": w.post_id,
            "revisionId": to_global_id("Revision", w.revision.id),
            "expectedVersion": 1,
        },
        POST_EDITORS,
    ),
    Case(
        "createPreviewToken",
        CREATE_PREVIEW_TOKEN,
        lambda w: {"postId": w.post_id, "expiresIn": 600},
        POST_EDITORS,
    ),
    Case(
        "revokePreviewToken",
        REVOKE_PREVIEW_TOKEN,
        lambda w: {"id": to_global_id("PreviewToken", w.preview_token.id)},
        POST_EDITORS,
    ),
    Case(
        "deactivateUser",
        DEACTIVATE_USER,
        lambda w: {"id": to_global_id("Author", w.member.id)},
        ADMINS,
    ),
    Case(
        "reactivateUser",
        REACTIVATE_USER,
        lambda w: {"id": to_global_id("Author", w.member.id)},
        ADMINS,
        prepare=deactivate_member,
    ),
    Case(
        "changePassword",
        CHANGE_PASSWORD,
        lambda w: {"currentPassword": PASSWORD, "newPassword": "a new matrix password"},
        SIGNED_IN,
    ),
    Case(
        "revokeSession",
        REVOKE_SESSION,
        lambda w: {"id": to_global_id("Session", w.member_session.id)},
        ADMINS,  # one's own sessions: any signed-in author (tests/graphql/accounts)
        hidden=True,
    ),
    Case("createTag", CREATE_TAG, lambda w: {"name": "Fresh"}, TAG_MANAGERS),
    Case(
        "updateTag",
        UPDATE_TAG,
        lambda w: {"id": to_global_id("Tag", w.tag.id), "name": "Renamed"},
        TAG_MANAGERS,
    ),
    Case("deleteTag", DELETE_TAG, lambda w: {"id": to_global_id("Tag", w.tag.id)}, TAG_MANAGERS),
    Case(
        "mergeTags",
        MERGE_TAGS,
        lambda w: {
            "source": to_global_id("Tag", w.other_tag.id),
            "target": to_global_id("Tag", w.tag.id),
        },
        TAG_MANAGERS,
    ),
]


def matrix() -> list[Any]:
    params = []
    for index, case in enumerate(CASES):
        for who in Who:
            verdict = "allowed" if who in case.allowed else "denied"
            params.append(pytest.param(case, who, id=f"{case.field}#{index}-{who.value}-{verdict}"))
    return params


async def headers_for(who: Who, world: World, sign_in: SignIn) -> dict[str, str]:
    role = {Who.EDITOR: Role.EDITOR, Who.ADMIN: Role.ADMIN}.get(who, Role.AUTHOR)
    if who is Who.ANONYMOUS:
        return {}
    if who is Who.AUTHOR_OWN:
        return (await sign_in(author=world.owner)).headers
    return (await sign_in(role, password_hash=PASSWORD_HASH)).headers


async def snapshot_of_database() -> tuple[int, ...]:
    post = await Post.get_or_none(id__gte=1).order_by("id")
    return (
        await Post.all().count(),
        post.version if post else 0,
        await Section.all().count(),
        await Revision.all().count(),
        await Tag.all().count(),
        await Author.filter(is_active=False).count(),
        await Author.exclude(password_hash=PASSWORD_HASH).count(),
        await ApiToken.filter(revoked_at__isnull=False).count(),
        await PreviewToken.filter(revoked_at__isnull=False).count(),
    )


@pytest.mark.parametrize(("case", "who"), matrix())
async def test_each_mutation_admits_exactly_the_roles_that_may_use_it(
    graphql: GraphQLRunner, sign_in: SignIn, case: Case, who: Who
) -> None:
    world = await build_world()
    if case.variables(world).get("authorId"):
        # The author a post is handed to must exist, or the allowed call would fail too.
        await make_author(id=world.owner.id + 1000)
    if case.prepare is not None:
        await case.prepare(world)
    variables = {"input": case.variables(world)}

    if who not in case.allowed:
        before = await snapshot_of_database()
        denied = await graphql(
            case.document, variables, headers=await headers_for(who, world, sign_in)
        )
        if case.hidden and who is not Who.ANONYMOUS:
            assert "errors" not in denied, denied
            [error] = denied["data"][case.field]["errors"]
            assert error["code"] == "NOT_FOUND", denied
        else:
            [error] = denied["errors"]
            expected = "UNAUTHENTICATED" if who is Who.ANONYMOUS else "FORBIDDEN"
            assert error["extensions"]["code"] == expected, denied
            assert denied["data"] is None
        assert await snapshot_of_database() == before
        # Then the very same request, by someone who may send it.
        who = Who.EDITOR if Who.EDITOR in case.allowed else Who.ADMIN

    allowed = await graphql(
        case.document, variables, headers=await headers_for(who, world, sign_in)
    )
    assert "errors" not in allowed, allowed
    assert allowed["data"][case.field]["errors"] == []
