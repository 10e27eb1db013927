"""The webhooks part of the API: admins manage webhooks and read their delivery logs."""

from cms.graphql.webhooks.mutations import WebhookMutations
from cms.graphql.webhooks.queries import WebhookQueries

__all__ = ["WebhookMutations", "WebhookQueries"]
