"""Preview tokens open one post's draft to an anonymous reader, and nothing else."""

from __future__ import annotations

from datetime import timedelta

import pytest

from cms.auth.viewer import ANONYMOUS
from cms.errors import InvalidInput, PermissionDenied
from cms.models import PostStatus, PreviewToken, Role
from cms.services import previews
from cms.services.posts import PostCriteria, find_posts, get_post
from cms.services.visibility import Visibility
from tests.factories import make_post
from tests.services.helpers import FakeClock, viewer_for


async def test_a_token_opens_its_draft_until_it_expires() -> None:
    viewer, author = await viewer_for(Role.AUTHOR)
    draft = await make_post(author=author, status=PostStatus.DRAFT, published_at=None)
    other_draft = await make_post(author=author, status=PostStatus.DRAFT, published_at=None)
    live = await make_post()
    clock = FakeClock()
    issued = await previews.create_preview_token(
        viewer, post_id=draft.id, expires_in=3600, clock=clock
    )
    assert issued.secret.startswith("cms_preview_")
    stored = await PreviewToken.get(post_id=draft.id)
    assert stored.digest == previews.digest(issued.secret)
    assert issued.secret not in stored.digest

    opened = await previews.previewed_post_ids(issued.secret, now=clock.now)
    assert opened == {draft.id}
    visibility = Visibility.for_viewer(ANONYMOUS, preview_post_ids=opened, now=clock.now)
    assert await get_post(visibility, post_id=draft.id) is not None
    assert await get_post(visibility, post_id=other_draft.id) is None
    assert await get_post(visibility, post_id=live.id) is not None

    clock.advance(seconds=3600)
    assert await previews.previewed_post_ids(issued.secret, now=clock.now) == frozenset()


@pytest.mark.parametrize(
    "secret",
    [
        pytest.param(None, id="none"),
        pytest.param("", id="empty"),
        pytest.param("cms_preview_wrong", id="unknown"),
        pytest.param("cms_preview_" + "x" * 500, id="overlong"),
        pytest.param("Bearer abc", id="not-a-preview-token"),
    ],
)
async def test_bad_tokens_open_nothing(secret: str | None) -> None:
    clock = FakeClock()
    assert await previews.previewed_post_ids(secret, now=clock.now) == frozenset()


@pytest.mark.parametrize(
    "seconds",
    [pytest.param(0, id="zero"), pytest.param(7 * 86400 + 1, id="over-a-week")],
)
async def test_token_lifetimes_are_bounded(seconds: int) -> None:
    viewer, author = await viewer_for(Role.AUTHOR)
    draft = await make_post(author=author, status=PostStatus.DRAFT, published_at=None)
    with pytest.raises(InvalidInput):
        await previews.create_preview_token(viewer, post_id=draft.id, expires_in=seconds)


async def test_only_those_who_may_read_the_draft_may_share_it() -> None:
    viewer, _ = await viewer_for(Role.AUTHOR)
    editor, _ = await viewer_for(Role.EDITOR)
    someone_elses = await make_post(status=PostStatus.DRAFT, published_at=None)
    with pytest.raises(PermissionDenied):
        await previews.create_preview_token(viewer, post_id=someone_elses.id, expires_in=60)
    await previews.create_preview_token(editor, post_id=someone_elses.id, expires_in=60)


async def test_a_previewed_draft_in_lists_keeps_published_only_lists_unchanged() -> None:
    draft = await make_post(status=PostStatus.DRAFT, published_at=None)
    await make_post()
    clock = FakeClock(FakeClock().now + timedelta(days=1))
    plain = Visibility.anonymous(clock.now)
    previewing = Visibility.for_viewer(ANONYMOUS, preview_post_ids=frozenset({draft.id}))
    assert await find_posts(plain, PostCriteria()).count() == 1
    assert await find_posts(previewing, PostCriteria()).count() == 2
