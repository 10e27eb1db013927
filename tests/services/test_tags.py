"""Managing tags: unique names and slugs, merging, and who may do it."""

from __future__ import annotations

import pytest

from cms.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from cms.models import PostTag, Role, Tag
from cms.services import tags
from tests.factories import make_post, make_tag
from tests.services.helpers import viewer_for


async def test_create_tag_makes_a_slug_from_the_name() -> None:
    editor, _ = await viewer_for(Role.EDITOR)
    first = await tags.create_tag(editor, name="Machine Learning")
    assert first.slug == "machine-learning"


async def test_tag_names_are_unique_whatever_their_case() -> None:
    editor, _ = await viewer_for(Role.EDITOR)
    await tags.create_tag(editor, name="Python")
    with pytest.raises(ValidationFailed) as failure:
        await tags.create_tag(editor, name="PYTHON", slug="python-2")
    [problem] = failure.value.problems
    assert (type(problem), problem.field) == (Conflict, "name")


async def test_non_ascii_tag_names_clash_whatever_their_case() -> None:
    editor, _ = await viewer_for(Role.EDITOR)
    await tags.create_tag(editor, name="Ärger")
    with pytest.raises(ValidationFailed):
        await tags.create_tag(editor, name="äRGER")


async def test_a_generated_tag_slug_avoids_taken_ones() -> None:
    editor, _ = await viewer_for(Role.EDITOR)
    await make_tag("Go lang", slug="go")
    assert (await tags.create_tag(editor, name="Go")).slug == "go-2"


async def test_update_tag_renames_and_rejects_a_name_in_use() -> None:
    editor, _ = await viewer_for(Role.EDITOR)
    go, rust = await make_tag("Go"), await make_tag("Rust")
    renamed = await tags.update_tag(editor, tag_id=go.id, name="Golang", description="Gophers")
    assert (renamed.name, renamed.slug, renamed.description) == ("Golang", "go", "Gophers")
    with pytest.raises(ValidationFailed):
        await tags.update_tag(editor, tag_id=rust.id, name="golang")
    # Renaming a tag to its own name in another case is fine.
    assert (await tags.update_tag(editor, tag_id=go.id, name="GOLANG")).name == "GOLANG"


async def test_merge_moves_posts_to_the_target_once_and_deletes_the_source() -> None:
    editor, _ = await viewer_for(Role.EDITOR)
    py, python = await make_tag("Py"), await make_tag("Python")
    only_source = await make_post(tags=(py,))
    both = await make_post(tags=(py, python))
    merged = await tags.merge_tags(editor, source_id=py.id, target_id=python.id)
    assert merged.id == python.id
    assert not await Tag.filter(id=py.id).exists()
    links = await PostTag.filter(tag_id=python.id).order_by("post_id")
    assert [link.post_id for link in links] == [only_source.id, both.id]


async def test_delete_tag_unlinks_its_posts() -> None:
    editor, _ = await viewer_for(Role.EDITOR)
    tag = await make_tag("Gone")
    post = await make_post(tags=(tag,))
    await tags.delete_tag(editor, tag_id=tag.id)
    assert not await PostTag.filter(post_id=post.id).exists()
    with pytest.raises(NotFound):
        await tags.delete_tag(editor, tag_id=tag.id)


async def test_authors_may_not_manage_tags() -> None:
    author, _ = await viewer_for(Role.AUTHOR)
    with pytest.raises(PermissionDenied):
        await tags.create_tag(author, name="Mine")
