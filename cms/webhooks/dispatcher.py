"""The dispatcher: claims due deliveries from the outbox, sends them, and records each attempt.

Every worker may run a dispatcher; each row is still sent by one at a time. A dispatcher
*claims* a row with one conditional statement::

    UPDATE webhook_delivery SET status = 'SENDING', lease_until = now + lease
    WHERE id = ? AND (status = 'PENDING' AND next_attempt_at <= now
                      OR status = 'SENDING' AND lease_until < now)

and sends it only if that touched the row. A dispatcher that dies mid-send leaves the row
SENDING; once its lease has expired, any dispatcher takes it over. Delivery is therefore
at-least-once: receivers drop repeats by ``X-CMS-Delivery``.

After an attempt the row becomes DELIVERED (2xx), or PENDING again with its next attempt due
after an exponential backoff with jitter, or FAILED when that attempt would fall outside the
retry window (24 hours from the change by default). Redirects are not followed: a 3xx is a
failure. Each failed attempt adds to the webhook's ``consecutive_failures``; at
``max_failures`` the webhook is disabled, and its pending deliveries wait (and age) until it
is enabled again. Any success resets the count.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
from tortoise.expressions import F, Q

from cms import __version__
from cms.errors import UnsafeURL
from cms.models import DeliveryStatus, Webhook, WebhookAttempt, WebhookDelivery
from cms.services.events import ContentChanged, EventBus
from cms.services.webhooks.urls import Resolver, resolve_target, system_resolver
from cms.settings import Settings
from cms.webhooks.signing import SIGNATURE_HEADER, signature_header

__all__ = ["DispatchConfig", "Dispatcher", "backoff_delay"]

logger = logging.getLogger("cms.webhooks")

Clock = Callable[[], datetime]
_MAX_ERROR_LENGTH = 500


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class DispatchConfig:
    allow_private: bool = False
    max_failures: int = 20
    retry_window: timedelta = timedelta(hours=24)
    timeout: float = 10.0
    # Longer than any attempt can take (the timeout), so a live sender never loses its claim.
    lease: timedelta = timedelta(seconds=60)
    first_delay: timedelta = timedelta(seconds=10)
    max_delay: timedelta = timedelta(hours=1)
    batch_size: int = 20
    concurrency: int = 4
    # How often to look for due rows when no local change wakes the dispatcher earlier.
    poll_interval: float = 5.0
    # Finished deliveries (DELIVERED, FAILED) older than this are deleted from the log.
    retention: timedelta = timedelta(days=30)

    @classmethod
    def from_settings(cls, settings: Settings) -> DispatchConfig:
        return cls(
            allow_private=settings.webhooks_allow_private,
            max_failures=settings.webhooks_max_failures,
            retry_window=settings.webhooks_retry_window,
            timeout=settings.webhooks_timeout_seconds,
        )


def backoff_delay(attempts: int, config: DispatchConfig, *, jitter: float) -> timedelta:
    """How long to wait after the ``attempts``-th failed attempt.

    Doubles from ``first_delay`` up to ``max_delay``; ``jitter`` in [0, 1) takes off up to half
    ("equal jitter"), so that deliveries failed by one outage do not all retry at once.
    """
    # The exponent is capped: the delay reaches max_delay long before, and timedelta overflows.
    doublings = min(max(0, attempts - 1), 30)
    ceiling = min(config.max_delay, config.first_delay * (1 << doublings))
    return ceiling * (1 - jitter / 2)


@dataclass(frozen=True)
class _Outcome:
    status_code: int | None
    error: str
    duration_ms: int

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class Dispatcher:
    """Sends the outbox's due deliveries. ``transport``, ``clock``, ``resolver`` and ``jitter``
    are injectable so that tests run without network, waiting or real DNS."""

    def __init__(
        self,
        config: DispatchConfig,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Clock = utc_now,
        resolver: Resolver = system_resolver,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self.config = config
        self.clock = clock
        self.resolver = resolver
        self.jitter = jitter
        self._transport = transport
        self._client: httpx.AsyncClient | None = None
        self._wake = asyncio.Event()
        self._last_prune: datetime | None = None

    async def run_once(self) -> int:
        """Claim and send the deliveries due now (one batch); returns how many were sent."""
        now = self.clock()
        due = (
            await WebhookDelivery.filter(_claimable(now), webhook__is_active=True)
            .order_by("next_attempt_at", "id")
            .limit(self.config.batch_size)
            .values("id")
        )
        limit = asyncio.Semaphore(self.config.concurrency)

        async def attempt(delivery_id: int) -> bool:
            async with limit:
                try:
                    return await self.deliver(delivery_id)
                except Exception:
                    # The row keeps its claim until the lease ends, then is tried again.
                    logger.exception("webhook delivery %s failed unexpectedly", delivery_id)
                    return False

        sent = await asyncio.gather(*(attempt(row["id"]) for row in due))
        return sum(sent)

    async def deliver(self, delivery_id: int) -> bool:
        """Claim one delivery and make one attempt at it; False if another dispatcher has it."""
        now = self.clock()
        lease_until = now + self.config.lease
        claimed = await WebhookDelivery.filter(_claimable(now), id=delivery_id).update(
            status=DeliveryStatus.SENDING, lease_until=lease_until
        )
        if not claimed:
            return False
        delivery = await WebhookDelivery.get_or_none(id=delivery_id).select_related("webhook")
        if delivery is None:  # its webhook was deleted in the meantime
            return False
        if now - delivery.created_at > self.config.retry_window:
            # Left waiting too long (its webhook was disabled, say): give up without sending.
            await self._finish(delivery, DeliveryStatus.FAILED, error="Retry window closed.")
            return True
        outcome = await self._send(delivery, delivery.webhook)
        await self._record(delivery, delivery.webhook, outcome, attempted_at=now)
        return True

    async def _send(self, delivery: WebhookDelivery, webhook: Webhook) -> _Outcome:
        started = time.monotonic()
        try:
            target = await resolve_target(
                webhook.url, allow_private=self.config.allow_private, resolver=self.resolver
            )
            body = delivery.body.encode()
            timestamp = int(self.clock().timestamp())
            request = self._http().build_request(
                "POST",
                target.pinned_url,
                content=body,
                headers={
                    "Host": target.host_header,
                    "Content-Type": "application/json",
                    "User-Agent": f"cms-webhooks/{__version__}",
                    "X-CMS-Event": delivery.event,
                    "X-CMS-Delivery": delivery.uid,
                    SIGNATURE_HEADER: signature_header(webhook.secret, timestamp, body),
                },
                # TLS checks the certificate against the host name, not the pinned address.
                extensions={"sni_hostname": target.url.host},
            )
            # httpx's timeout bounds each read or write; this bounds the whole attempt.
            async with asyncio.timeout(self.config.timeout):
                # Streamed and closed unread: a receiver cannot make us hold a huge response.
                response = await self._http().send(request, stream=True)
                await response.aclose()
        except UnsafeURL as exc:
            return _Outcome(None, exc.message, _elapsed_ms(started))
        except TimeoutError:
            error = f"No answer within {self.config.timeout:g} seconds."
            return _Outcome(None, error, _elapsed_ms(started))
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            return _Outcome(None, error[:_MAX_ERROR_LENGTH], _elapsed_ms(started))
        code = response.status_code
        error = "" if 200 <= code < 300 else f"The receiver answered HTTP {code}."
        return _Outcome(code, error, _elapsed_ms(started))

    async def _record(
        self,
        delivery: WebhookDelivery,
        webhook: Webhook,
        outcome: _Outcome,
        *,
        attempted_at: datetime,
    ) -> None:
        await WebhookAttempt.create(
            delivery_id=delivery.id,
            attempted_at=attempted_at,
            status_code=outcome.status_code,
            duration_ms=outcome.duration_ms,
            error=outcome.error,
        )
        attempts = delivery.attempts + 1
        if outcome.ok:
            await self._finish(delivery, DeliveryStatus.DELIVERED, outcome=outcome)
            await Webhook.filter(id=webhook.id, consecutive_failures__gt=0).update(
                consecutive_failures=0
            )
            return
        next_at = self.clock() + backoff_delay(attempts, self.config, jitter=self.jitter())
        if next_at - delivery.created_at > self.config.retry_window:
            await self._finish(delivery, DeliveryStatus.FAILED, outcome=outcome)
        else:
            await WebhookDelivery.filter(id=delivery.id, status=DeliveryStatus.SENDING).update(
                status=DeliveryStatus.PENDING,
                attempts=attempts,
                next_attempt_at=next_at,
                lease_until=None,
                last_status_code=outcome.status_code,
                last_error=outcome.error,
            )
        await self._count_failure(webhook)

    async def _finish(
        self,
        delivery: WebhookDelivery,
        status: DeliveryStatus,
        *,
        outcome: _Outcome | None = None,
        error: str = "",
    ) -> None:
        fields: dict[str, object] = {"status": status, "lease_until": None}
        if outcome is not None:
            fields |= {
                "attempts": delivery.attempts + 1,
                "last_status_code": outcome.status_code,
                "last_error": outcome.error,
            }
        else:
            fields["last_error"] = error
        if status is DeliveryStatus.DELIVERED:
            fields["delivered_at"] = self.clock()
        await WebhookDelivery.filter(id=delivery.id, status=DeliveryStatus.SENDING).update(**fields)
        if status is DeliveryStatus.FAILED:
            logger.warning(
                "gave up on webhook delivery %s to %s", delivery.uid, delivery.webhook_id
            )

    async def _count_failure(self, webhook: Webhook) -> None:
        await Webhook.filter(id=webhook.id).update(
            consecutive_failures=F("consecutive_failures") + 1
        )
        # Conditional, so that concurrent failures disable the webhook (and log) once.
        disabled = await Webhook.filter(
            id=webhook.id,
            is_active=True,
            consecutive_failures__gte=self.config.max_failures,
        ).update(
            is_active=False,
            disabled_at=self.clock(),
            disabled_reason=f"Disabled after {self.config.max_failures} failed attempts in a row.",
        )
        if disabled:
            logger.warning("disabled webhook %s after repeated failures", webhook.id)

    async def prune(self) -> int:
        """Delete finished deliveries older than the retention period; returns how many."""
        cutoff = self.clock() - self.config.retention
        doomed = WebhookDelivery.filter(
            status__in=(DeliveryStatus.DELIVERED, DeliveryStatus.FAILED), created_at__lt=cutoff
        )
        # Counted first: SQLite's row count for the delete includes the cascaded attempts.
        count = await doomed.count()
        if count:
            await doomed.delete()
        return count

    def wake(self) -> None:
        """Look for due deliveries now rather than at the next poll."""
        self._wake.set()

    async def run_forever(self) -> None:
        while True:
            self._wake.clear()
            sent = 0
            try:
                sent = await self.run_once()
                await self._prune_hourly()
            except Exception:
                # A failed round (the database restarting, say) must not end the task.
                logger.exception("webhook dispatch failed; retrying")
            if sent < self.config.batch_size:
                with suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=self.config.poll_interval)

    async def _prune_hourly(self) -> None:
        now = self.clock()
        if self._last_prune is None or now - self._last_prune >= timedelta(hours=1):
            self._last_prune = now
            await self.prune()

    @asynccontextmanager
    async def running(self, bus: EventBus) -> AsyncIterator[None]:
        """Dispatch in the background for the duration of the block.

        Changes committed in this process wake the dispatcher at once; those of other workers
        are found by polling (their own dispatchers usually take them first).
        """

        async def on_change(event: ContentChanged) -> None:
            self.wake()

        unsubscribe = bus.subscribe(on_change)
        task = asyncio.create_task(self.run_forever(), name="cms-webhooks")
        try:
            yield
        finally:
            unsubscribe()
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task
            await self.aclose()

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(
                transport=self._transport,
                timeout=self.config.timeout,
                follow_redirects=False,
                # Proxies from the environment would connect to names we did not check.
                trust_env=False,
            )
        return self._client


def _claimable(now: datetime) -> Q:
    return Q(status=DeliveryStatus.PENDING, next_attempt_at__lte=now) | Q(
        status=DeliveryStatus.SENDING, lease_until__lt=now
    )


def _elapsed_ms(started: float) -> int:
    return round((time.monotonic() - started) * 1000)
