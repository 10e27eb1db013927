"""Batch loaders for webhook deliveries: the attempt logs of a page in one statement."""

from __future__ import annotations

from collections.abc import Sequence

from strawberry.dataloader import DataLoader

from cms.models import WebhookAttempt


class AttemptsByDeliveryIdLoader(DataLoader[int, list[WebhookAttempt]]):
    """Built per resolved list (never shared between requests): attempts, oldest first."""

    def __init__(self) -> None:
        super().__init__(load_fn=self._load)

    @staticmethod
    async def _load(delivery_ids: Sequence[int]) -> list[list[WebhookAttempt]]:
        found: dict[int, list[WebhookAttempt]] = {pk: [] for pk in delivery_ids}
        for attempt in await WebhookAttempt.filter(delivery_id__in=delivery_ids).order_by("id"):
            found[attempt.delivery_id].append(attempt)
        return [found[pk] for pk in delivery_ids]
