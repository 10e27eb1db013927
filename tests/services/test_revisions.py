"""Every change leaves an immutable revision; restoring one is a new change."""

from __future__ import annotations

import pytest

from cms.errors import NotFound, SlugTaken
from cms.models import Post, PostStatus, Revision, Role, Section, Tag
from cms.services import authoring, revisions
from cms.services.authoring import PostChanges
from cms.services.validation import SectionInput
from tests.factories import make_post, make_tag
from tests.services.helpers import viewer_for


async def test_restoring_a_revision_brings_back_its_content_as_a_new_revision() -> None:
    viewer, _ = await viewer_for(Role.AUTHOR)
    await make_tag("News")
    post = await authoring.create_post(
        viewer,
        title="First title",
        tags=["news"],
        sections=[SectionInput(heading="One", body="1")],
    )
    await authoring.update_post(
        viewer,
        post_id=post.id,
        expected_version=1,
        changes=PostChanges(title="Second title", tags=[], sections=[SectionInput(body="2")]),
    )
    first = await Revision.get(post_id=post.id, version=1)

    restored = await revisions.restore_revision(
        viewer, post_id=post.id, revision_id=first.id, expected_version=2
    )

    assert (restored.title, restored.version) == ("First title", 3)
    sections = await Section.filter(post_id=post.id)
    assert [(s.heading, s.body) for s in sections] == [("One", "1")]
    history = await Revision.filter(post_id=post.id).order_by("version")
    assert [(r.version, r.mutation) for r in history] == [
        (1, "createPost"),
        (2, "updatePost"),
        (3, "restoreRevision"),
    ]
    # History is untouched: the old revisions still say what they said.
    assert history[1].snapshot["title"] == "Second title"
    assert history[2].snapshot["tags"] == ["news"]


async def test_restoring_keeps_the_status_and_follows_renamed_tags() -> None:
    viewer, _ = await viewer_for(Role.AUTHOR)
    tag = await make_tag("Old name")
    post = await authoring.create_post(viewer, title="T", tags=[tag.slug])
    await authoring.publish_post(viewer, post_id=post.id, expected_version=1)
    await Tag.filter(id=tag.id).update(name="New name", slug="new-name")
    first = await Revision.get(post_id=post.id, version=1)
    restored = await revisions.restore_revision(
        viewer, post_id=post.id, revision_id=first.id, expected_version=2
    )
    assert restored.status is PostStatus.PUBLISHED
    assert (await Revision.get(post_id=post.id, version=3)).snapshot["tags"] == ["new-name"]


async def test_a_revision_of_another_post_is_not_found() -> None:
    viewer, _ = await viewer_for(Role.AUTHOR)
    mine = await authoring.create_post(viewer, title="Mine")
    other = await authoring.create_post(viewer, title="Other")
    foreign = await Revision.get(post_id=other.id)
    with pytest.raises(NotFound) as failure:
        await revisions.restore_revision(
            viewer, post_id=mine.id, revision_id=foreign.id, expected_version=1
        )
    assert failure.value.field == "revisionId"


async def test_restoring_a_slug_taken_since_is_a_conflict() -> None:
    viewer, _ = await viewer_for(Role.AUTHOR)
    post = await authoring.create_post(viewer, title="T", slug="wanted")
    await authoring.update_post(
        viewer, post_id=post.id, expected_version=1, changes=PostChanges(slug="elsewhere")
    )
    await make_post(slug="wanted")
    first = await Revision.get(post_id=post.id, version=1)
    with pytest.raises(SlugTaken):
        await revisions.restore_revision(
            viewer, post_id=post.id, revision_id=first.id, expected_version=2
        )
    assert (await Post.get(id=post.id)).version == 2
