"""Tortoise ORM models: the content model (posts, sections, tags) and the people who write it."""

from cms.models.accounts import ApiToken, Author, Role, TokenKind
from cms.models.content import (
    Post,
    PostStatus,
    PostTag,
    PreviewToken,
    Revision,
    RevisionBody,
    Section,
    Tag,
)
from cms.models.webhooks import DeliveryStatus, Webhook, WebhookAttempt, WebhookDelivery

__all__ = [
    "ApiToken",
    "Author",
    "DeliveryStatus",
    "Post",
    "PostStatus",
    "PostTag",
    "PreviewToken",
    "Revision",
    "RevisionBody",
    "Role",
    "Section",
    "Tag",
    "TokenKind",
    "Webhook",
    "WebhookAttempt",
    "WebhookDelivery",
]
