"""Writing posts through the services: create, update, trash, publish, and their rules."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from cms.auth.viewer import ANONYMOUS
from cms.errors import (
    InvalidInput,
    NotFound,
    PermissionDenied,
    SlugTaken,
    Unauthenticated,
    ValidationFailed,
    VersionConflict,
)
from cms.models import Post, PostStatus, PostTag, Revision, Role, Section
from cms.services import authoring
from cms.services.authoring import PostChanges
from cms.services.events import ContentChanged, events
from cms.services.validation import SectionInput
from tests.factories import BASE_TIME, make_post, make_tag
from tests.services.helpers import FakeClock, viewer_for


@pytest.fixture
def heard() -> Iterator[list[ContentChanged]]:
    received: list[ContentChanged] = []

    async def listen(event: ContentChanged) -> None:
        received.append(event)

    unsubscribe = events.subscribe(listen)
    yield received
    unsubscribe()


async def test_create_post_writes_post_sections_tags_and_first_revision(
    heard: list[ContentChanged],
) -> None:
    viewer, author = await viewer_for(Role.AUTHOR)
    news = await make_tag("News")
    post = await authoring.create_post(
        viewer,
        title="Hello world",
        tags=["news"],
        sections=[SectionInput(body="Intro."), SectionInput(heading="Setup", body="Steps.")],
    )
    assert (post.slug, post.status, post.version, post.author_id) == (
        "hello-world",
        PostStatus.DRAFT,
        1,
        author.id,
    )
    assert post.published_at is None
    sections = await Section.filter(post=post).order_by("position")
    assert [(s.position, s.heading, s.anchor) for s in sections] == [
        (0, None, "intro"),
        (1, "Setup", "setup"),
    ]
    assert await PostTag.filter(post=post, tag=news).exists()
    [revision] = await Revision.filter(post=post)
    assert (revision.version, revision.mutation, revision.editor_id) == (1, "createPost", author.id)
    assert revision.snapshot["tags"] == ["news"]
    assert heard[-1] == ContentChanged(
        kind="post.created",
        post_ids=frozenset({post.id}),
        tag_ids=frozenset({news.id}),
        author_ids=frozenset({author.id}),
    )


async def test_generated_slugs_get_a_numeric_suffix_on_collision() -> None:
    viewer, _ = await viewer_for(Role.AUTHOR)
    slugs = [(await authoring.create_post(viewer, title="Hello!")).slug for _ in range(3)]
    assert slugs == ["hello", "hello-2", "hello-3"]


async def test_a_title_without_letters_still_gets_a_slug() -> None:
    viewer, _ = await viewer_for(Role.AUTHOR)
    assert (await authoring.create_post(viewer, title="!!!")).slug == "untitled"


async def test_an_explicit_slug_that_is_taken_is_a_conflict() -> None:
    viewer, _ = await viewer_for(Role.AUTHOR)
    await make_post(slug="taken")
    with pytest.raises(ValidationFailed) as failure:
        await authoring.create_post(viewer, title="T", slug="taken")
    [problem] = failure.value.problems
    assert isinstance(problem, SlugTaken)
    assert problem.field == "slug"


@pytest.mark.parametrize(
    ("fields", "bad_fields"),
    [
        pytest.param({"title": ""}, ["title"], id="empty-title"),
        pytest.param({"title": "   "}, ["title"], id="blank-title"),
        pytest.param({"title": "x" * 201}, ["title"], id="long-title"),
        pytest.param({"slug": "Hello"}, ["slug"], id="uppercase-slug"),
        pytest.param({"slug": "héllo"}, ["slug"], id="non-ascii-slug"),
        pytest.param({"slug": "a--b"}, ["slug"], id="double-dash-slug"),
        pytest.param({"slug": "x" * 81}, ["slug"], id="long-slug"),
        pytest.param({"excerpt": "x" * 1001}, ["excerpt"], id="long-excerpt"),
        pytest.param({"tags": ["nope", "news"]}, ["tags"], id="unknown-tag"),
        pytest.param({"tags": [f"t{n}" for n in range(51)]}, ["tags"], id="too-many-tags"),
        pytest.param(
            {"sections": [SectionInput(body="x")] * 201}, ["sections"], id="too-many-sections"
        ),
        pytest.param(
            {"sections": [SectionInput(body="é" * 60_000)]}, ["sections.0.body"], id="big-body"
        ),
        pytest.param(
            {"sections": [SectionInput(heading="h" * 201, body="")]},
            ["sections.0.heading"],
            id="long-heading",
        ),
        pytest.param({"title": "a\x00b"}, ["title"], id="nul"),
        pytest.param({"status": PostStatus.SCHEDULED}, ["status"], id="scheduled-status"),
        pytest.param(
            {"title": "", "slug": "BAD", "excerpt": "x" * 1001},
            ["title", "slug", "excerpt"],
            id="every-problem-at-once",
        ),
    ],
)
async def test_invalid_input_is_reported_by_field_and_writes_nothing(
    fields: dict, bad_fields: list[str]
) -> None:
    viewer, _ = await viewer_for(Role.AUTHOR)
    await make_tag("News")
    with pytest.raises(ValidationFailed) as failure:
        await authoring.create_post(viewer, **{"title": "Fine", **fields})
    assert [problem.field for problem in failure.value.problems] == bad_fields
    assert await Post.all().count() == 0
    assert await Section.all().count() == 0
    assert await Revision.all().count() == 0


async def test_creating_needs_a_signed_in_author() -> None:
    with pytest.raises(Unauthenticated):
        await authoring.create_post(ANONYMOUS, title="T")


async def test_update_changes_only_the_given_fields_and_bumps_the_version(
    heard: list[ContentChanged],
) -> None:
    viewer, author = await viewer_for(Role.AUTHOR)
    old_tag, new_tag = await make_tag("Old"), await make_tag("New")
    post = await make_post(author=author, tags=(old_tag,), excerpt="kept")
    clock = FakeClock(BASE_TIME + timedelta(days=30))
    updated = await authoring.update_post(
        viewer,
        post_id=post.id,
        expected_version=1,
        changes=PostChanges(title="Renamed", tags=["new"]),
        clock=clock,
    )
    assert (updated.title, updated.excerpt, updated.version) == ("Renamed", "kept", 2)
    assert updated.updated_at == clock.now
    assert [link.tag_id for link in await PostTag.filter(post=post)] == [new_tag.id]
    assert heard[-1].tag_ids == {old_tag.id, new_tag.id}
    assert heard[-1].kind == "post.updated"


async def test_update_with_sections_replaces_them_all() -> None:
    viewer, author = await viewer_for(Role.AUTHOR)
    post = await make_post(author=author, sections=((None, "a"), ("B", "b"), ("C", "c")))
    await authoring.update_post(
        viewer,
        post_id=post.id,
        expected_version=1,
        changes=PostChanges(sections=[SectionInput(heading="Only", body="one")]),
    )
    sections = await Section.filter(post=post)
    assert [(s.position, s.heading, s.anchor, s.body) for s in sections] == [
        (0, "Only", "only", "one")
    ]


async def test_update_fails_on_a_stale_version_and_writes_nothing() -> None:
    viewer, author = await viewer_for(Role.AUTHOR)
    post = await make_post(author=author, title="Original")
    await authoring.update_post(
        viewer, post_id=post.id, expected_version=1, changes=PostChanges(title="First")
    )
    with pytest.raises(VersionConflict) as conflict:
        await authoring.update_post(
            viewer, post_id=post.id, expected_version=1, changes=PostChanges(title="Second")
        )
    assert conflict.value.current_version == 2
    assert "version 2" in conflict.value.message
    stored = await Post.get(id=post.id)
    assert (stored.title, stored.version) == ("First", 2)


async def test_an_author_cannot_change_a_posts_author_but_an_editor_can(
    heard: list[ContentChanged],
) -> None:
    viewer, author = await viewer_for(Role.AUTHOR)
    editor, other = await viewer_for(Role.EDITOR)
    post = await make_post(author=author)
    with pytest.raises(PermissionDenied):
        await authoring.update_post(
            viewer, post_id=post.id, expected_version=1, changes=PostChanges(author_id=other.id)
        )
    moved = await authoring.update_post(
        editor, post_id=post.id, expected_version=1, changes=PostChanges(author_id=other.id)
    )
    assert moved.author_id == other.id
    # Both authors' post lists changed.
    assert heard[-1].author_ids == {author.id, other.id}


async def test_an_author_cannot_edit_another_authors_post() -> None:
    viewer, _ = await viewer_for(Role.AUTHOR)
    post = await make_post()
    with pytest.raises(PermissionDenied):
        await authoring.update_post(
            viewer, post_id=post.id, expected_version=1, changes=PostChanges(title="Mine now")
        )


async def test_an_update_with_nothing_to_change_is_rejected() -> None:
    viewer, author = await viewer_for(Role.AUTHOR)
    post = await make_post(author=author)
    with pytest.raises(ValidationFailed):
        await authoring.update_post(
            viewer, post_id=post.id, expected_version=1, changes=PostChanges()
        )


async def test_trash_hides_a_post_restore_brings_it_back_and_purge_removes_it(
    heard: list[ContentChanged],
) -> None:
    viewer, author = await viewer_for(Role.AUTHOR)
    post = await make_post(author=author)
    clock = FakeClock()
    trashed = await authoring.delete_post(viewer, post_id=post.id, clock=clock)
    assert trashed.deleted_at == clock.now
    assert (heard[-1].kind, heard[-1].post_ids) == ("post.deleted", {post.id})
    with pytest.raises(NotFound):
        await authoring.update_post(
            viewer, post_id=post.id, expected_version=2, changes=PostChanges(title="x")
        )
    restored = await authoring.restore_post(viewer, post_id=post.id, expected_version=2)
    assert (restored.deleted_at, restored.version) == (None, 3)

    await authoring.delete_post(viewer, post_id=post.id, clock=clock)
    assert await authoring.purge_trash(older_than=timedelta(days=30), clock=clock) == 0
    clock.advance(days=31)
    assert await authoring.purge_trash(older_than=timedelta(days=30), clock=clock) == 1
    assert not await Post.filter(id=post.id).exists()
    assert not await Revision.filter(post_id=post.id).exists()
    assert (heard[-1].kind, heard[-1].post_ids) == ("post.purged", {post.id})


async def test_restoring_a_post_that_is_not_in_the_trash_is_not_found() -> None:
    viewer, author = await viewer_for(Role.AUTHOR)
    post = await make_post(author=author)
    with pytest.raises(NotFound):
        await authoring.restore_post(viewer, post_id=post.id)


async def test_publishing_now_and_unpublishing() -> None:
    viewer, author = await viewer_for(Role.AUTHOR)
    post = await make_post(author=author, status=PostStatus.DRAFT, published_at=None)
    clock = FakeClock()
    published = await authoring.publish_post(
        viewer, post_id=post.id, expected_version=1, clock=clock
    )
    assert (published.status, published.published_at) == (PostStatus.PUBLISHED, clock.now)
    draft = await authoring.unpublish_post(viewer, post_id=post.id, expected_version=2)
    assert (draft.status, draft.published_at, draft.version) == (PostStatus.DRAFT, None, 3)


async def test_publishing_at_a_future_time_schedules_the_post() -> None:
    viewer, author = await viewer_for(Role.AUTHOR)
    post = await make_post(author=author, status=PostStatus.DRAFT, published_at=None)
    clock = FakeClock()
    at = clock.now + timedelta(hours=2)
    scheduled = await authoring.publish_post(
        viewer, post_id=post.id, expected_version=1, at=at, clock=clock
    )
    assert (scheduled.status, scheduled.published_at) == (PostStatus.SCHEDULED, at)


async def test_publishing_needs_a_time_zone() -> None:
    viewer, author = await viewer_for(Role.AUTHOR)
    post = await make_post(author=author, status=PostStatus.DRAFT, published_at=None)
    with pytest.raises(InvalidInput):
        await authoring.publish_post(
            viewer, post_id=post.id, expected_version=1, at=BASE_TIME.replace(tzinfo=None)
        )
