"""How every change to a post is made: check, claim the version, write, record, announce.

Optimistic concurrency rests on one statement. A writer names the version it read
(``expectedVersion``); the first statement of its transaction is

    UPDATE post SET version = expected + 1, ... WHERE id = ? AND version = expected

and the change goes on only if that touched a row. Two writers with the same expectation
cannot both succeed: on PostgreSQL the second one's UPDATE waits for the first one's row lock,
then re-reads the row, finds the new version and touches nothing; on SQLite transactions run
one at a time. The loser's transaction rolls back having written nothing, and it reports
``VersionConflict`` with the version it should reload. No ``SELECT ... FOR UPDATE`` is needed
(SQLite has none), and no lock is held while a client thinks.

After the claim, the same transaction applies the rest of the change (sections, tag links),
stores an immutable revision and the webhook deliveries it owes
(``cms.services.webhooks.outbox``), and commits; listeners hear about it only once it has committed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from cms.auth.viewer import Viewer
from cms.errors import NotFound, PermissionDenied, SlugTaken, Unauthenticated, VersionConflict
from cms.models import Post, PostTag
from cms.permissions import Permission
from cms.services.events import ContentChanged, events
from cms.services.slugs import is_slug_clash
from cms.services.snapshots import record_revision
from cms.services.webhooks.outbox import enqueue_webhook_events

Clock = Callable[[], datetime]
"""Where services read the time: injectable, so that tests can move it."""


def utc_now() -> datetime:
    return datetime.now(UTC)


def require(viewer: Viewer, permission: Permission) -> None:
    """UNAUTHENTICATED for anonymous viewers, FORBIDDEN for those lacking ``permission``."""
    if not viewer.is_authenticated:
        raise Unauthenticated("You must be signed in to do this.")
    if not viewer.can(permission):
        raise PermissionDenied(f"You do not have the `{permission.value}` permission.")


def require_on_post(viewer: Viewer, post: Post, own: Permission, any_: Permission) -> None:
    """The viewer holds ``any_``, or holds ``own`` and wrote ``post``."""
    if not viewer.is_authenticated:
        raise Unauthenticated("You must be signed in to do this.")
    if not viewer.can_on_post(own, any_, post_author_id=post.author_id):
        raise PermissionDenied(
            f"You may not do this to post {post.id}: it needs `{any_.value}`, "
            f"or `{own.value}` on a post you wrote."
        )


async def find_post(post_id: int, *, trashed: bool = False) -> Post:
    """The post with ``post_id``, in the trash or out of it; NOT_FOUND otherwise."""
    post = await Post.get_or_none(id=post_id, deleted_at__isnull=not trashed)
    if post is None:
        where = "in the trash" if trashed else "(it may be in the trash)"
        raise NotFound(f"There is no post {post_id} {where}.", field="id")
    return post


async def tag_ids_of(post_id: int) -> set[int]:
    return {row["tag_id"] for row in await PostTag.filter(post_id=post_id).values("tag_id")}


Then = Callable[[Post], Awaitable[None]]


async def apply_change(
    viewer: Viewer,
    post: Post,
    *,
    expected_version: int | None,
    mutation: str,
    event: str,
    now: datetime,
    fields: Mapping[str, Any] | None = None,
    then: Then | None = None,
) -> Post:
    """Bump ``post``'s version and apply ``fields`` and ``then`` in one transaction.

    ``expected_version`` None means "whatever version was just read": the write still fails
    with a conflict if another one lands between that read and this transaction. Returns the
    post as stored afterwards.
    """
    expected = post.version if expected_version is None else expected_version
    if expected != post.version:
        # Cheap early exit; the conditional update below is what actually guarantees it.
        raise VersionConflict(expected=expected, current=post.version)
    tags_before = await tag_ids_of(post.id)
    try:
        async with in_transaction():
            stored = await write_change(
                post,
                expected_version=expected,
                editor_id=viewer.author_id,
                mutation=mutation,
                event=event,
                now=now,
                fields=fields,
                then=then,
            )
    except IntegrityError as exc:
        raise _constraint_conflict(exc, fields or {}) from exc
    await announce(
        event,
        post_ids=[post.id],
        tag_ids=tags_before | await tag_ids_of(post.id),
        author_ids=[post.author_id, stored.author_id],
    )
    return stored


async def write_change(
    post: Post,
    *,
    expected_version: int,
    editor_id: int | None,
    mutation: str,
    event: str,
    now: datetime,
    fields: Mapping[str, Any] | None = None,
    then: Then | None = None,
) -> Post:
    """The part of a change made inside the writer's transaction: claim ``expected_version``
    (``VersionConflict`` if another change has taken it), write, record the revision and the
    webhook deliveries. The caller commits, then ``announce``s."""
    claimed = await Post.filter(id=post.id, version=expected_version).update(
        version=expected_version + 1, updated_at=now, **(fields or {})
    )
    if not claimed:
        raise await _conflict(post.id, expected_version)
    if then is not None:
        await then(post)
    stored = await Post.get(id=post.id)
    await record_revision(stored, editor_id=editor_id, mutation=mutation)
    await enqueue_webhook_events(event, post_ids=[post.id])
    return stored


async def _conflict(post_id: int, expected: int) -> Exception:
    current = await Post.filter(id=post_id).values("version")
    if not current:
        return NotFound(f"There is no post {post_id}.", field="id")
    return VersionConflict(expected=expected, current=current[0]["version"])


def _constraint_conflict(exc: IntegrityError, fields: Mapping[str, Any]) -> Exception:
    # The one unique value clients choose is the slug, checked before writing; losing a race
    # for it ends here. Any other violation is a bug and stays an unexpected error.
    if is_slug_clash(exc) and "slug" in fields:
        return SlugTaken(str(fields["slug"]))
    return exc


async def announce(
    kind: str,
    *,
    post_ids: Iterable[int] = (),
    tag_ids: Iterable[int] = (),
    author_ids: Iterable[int] = (),
) -> None:
    """Tell listeners what a committed write touched (call only after the commit)."""
    await events.content_changed(
        ContentChanged(
            kind=kind,
            post_ids=frozenset(post_ids),
            tag_ids=frozenset(tag_ids),
            author_ids=frozenset(author_ids),
        )
    )
