"""The events a webhook can subscribe to, and which content changes raise them.

Writers describe a change with their own kind (``cms.services.events.ContentChanged.kind``);
webhooks speak a smaller, stable vocabulary:

=====================  ========================================================================
webhook event          raised by (change kind)
=====================  ========================================================================
``post.published``     ``post.published`` (published now, backdated, or a scheduled post
                       recorded by the scheduler); ``post.created`` of a post created PUBLISHED
``post.updated``       ``post.updated`` (fields, tags, sections); ``post.created`` of a draft;
                       ``post.scheduled`` (publication set for later); ``post.restored``
``post.unpublished``   ``post.unpublished``
``post.deleted``       ``post.deleted`` (moved to the trash)
``tag.changed``        ``tag.created``, ``tag.updated``, ``tag.deleted``, ``tag.merged``
=====================  ========================================================================

The payload's ``data.change`` names the change kind, so a receiver can tell a restore from an
edit. ``post.purged`` (a trashed post deleted for good) raises nothing: ``post.deleted`` was
sent when it went to the trash.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["TAG_KINDS", "WebhookEvent", "event_for_post_change", "possible_events"]


class WebhookEvent(StrEnum):
    POST_PUBLISHED = "post.published"
    POST_UPDATED = "post.updated"
    POST_UNPUBLISHED = "post.unpublished"
    POST_DELETED = "post.deleted"
    TAG_CHANGED = "tag.changed"


_POST_KINDS = {
    "post.published": WebhookEvent.POST_PUBLISHED,
    "post.updated": WebhookEvent.POST_UPDATED,
    "post.scheduled": WebhookEvent.POST_UPDATED,
    "post.restored": WebhookEvent.POST_UPDATED,
    "post.unpublished": WebhookEvent.POST_UNPUBLISHED,
    "post.deleted": WebhookEvent.POST_DELETED,
}
TAG_KINDS = frozenset({"tag.created", "tag.updated", "tag.deleted", "tag.merged"})


def event_for_post_change(kind: str, *, is_published: bool) -> WebhookEvent | None:
    """The webhook event a change of ``kind`` to one post raises, if any.

    ``is_published`` is the post's state after the change; it decides what a creation is.
    """
    if kind == "post.created":
        return WebhookEvent.POST_PUBLISHED if is_published else WebhookEvent.POST_UPDATED
    return _POST_KINDS.get(kind)


def possible_events(kind: str) -> frozenset[WebhookEvent]:
    """Every webhook event a change of ``kind`` may raise, whatever the rows' state."""
    if kind in TAG_KINDS:
        return frozenset({WebhookEvent.TAG_CHANGED})
    raised = (event_for_post_change(kind, is_published=state) for state in (False, True))
    return frozenset(event for event in raised if event is not None)
