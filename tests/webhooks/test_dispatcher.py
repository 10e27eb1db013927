"""Sending the outbox: signatures, retries, leases, restarts, auto-disable, SSRF at send time."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

import httpx
import pytest
from tortoise.transactions import in_transaction

from cms.models import DeliveryStatus, PostStatus, Webhook, WebhookAttempt, WebhookDelivery
from cms.services.webhooks.outbox import enqueue_webhook_events, global_id
from cms.webhooks import DispatchConfig
from cms.webhooks.dispatcher import backoff_delay
from tests.factories import make_post
from tests.services.webhooks.test_urls import resolves_to
from tests.webhooks.conftest import Clock, MakeDispatcher, Receiver, make_webhook


async def enqueue_publication(clock: Clock) -> int:
    """A published post whose publication is in the outbox; returns the post's id."""
    post = await make_post(status=PostStatus.PUBLISHED)
    async with in_transaction():
        await enqueue_webhook_events("post.published", post_ids=[post.id], now=clock.now)
    return post.id


async def test_a_delivery_is_signed_so_that_the_receiver_can_verify_it(
    clock: Clock, receiver: Receiver, make_dispatcher: MakeDispatcher
) -> None:
    webhook = await make_webhook()
    post_id = await enqueue_publication(clock)

    assert await make_dispatcher().run_once() == 1

    (request,) = receiver.requests
    assert receiver.verified == [True]
    delivery = await WebhookDelivery.get(webhook_id=webhook.id)
    assert request.method == "POST"
    assert str(request.url) == webhook.url
    assert request.headers["content-type"] == "application/json"
    assert request.headers["x-cms-event"] == "post.published"
    assert request.headers["x-cms-delivery"] == delivery.uid
    body = json.loads(request.content)
    assert body["id"] == delivery.event_id
    assert body["event"] == "post.published"
    assert body["data"]["change"] == "post.published"
    assert body["data"]["post"]["id"] == global_id("Post", post_id)
    assert body["data"]["post"]["status"] == "PUBLISHED"
    assert delivery.status is DeliveryStatus.DELIVERED
    assert delivery.delivered_at == clock.now
    (attempt,) = await WebhookAttempt.filter(delivery_id=delivery.id)
    assert (attempt.status_code, attempt.error) == (200, "")


async def test_a_failing_receiver_is_retried_after_a_backoff_until_it_succeeds(
    clock: Clock, receiver: Receiver, make_dispatcher: MakeDispatcher
) -> None:
    receiver.statuses = [500, 200]
    webhook = await make_webhook()
    await enqueue_publication(clock)
    dispatcher = make_dispatcher()

    await dispatcher.run_once()
    delivery = await WebhookDelivery.get(webhook_id=webhook.id)
    assert delivery.status is DeliveryStatus.PENDING
    assert delivery.attempts == 1
    assert delivery.last_status_code == 500
    assert delivery.next_attempt_at == clock.now + timedelta(seconds=10)
    assert (await Webhook.get(id=webhook.id)).consecutive_failures == 1

    assert await dispatcher.run_once() == 0  # not due yet
    clock.advance(timedelta(seconds=10))
    assert await dispatcher.run_once() == 1

    await delivery.refresh_from_db()
    assert delivery.status is DeliveryStatus.DELIVERED
    assert delivery.attempts == 2
    attempts = await WebhookAttempt.filter(delivery_id=delivery.id).order_by("id")
    assert [a.status_code for a in attempts] == [500, 200]
    assert len(receiver.requests) == 2
    assert all(receiver.verified)
    assert (await Webhook.get(id=webhook.id)).consecutive_failures == 0


def test_the_backoff_doubles_up_to_an_hour_and_jitter_shortens_it() -> None:
    config = DispatchConfig()
    delays = [backoff_delay(n, config, jitter=0.0) for n in (1, 2, 3, 4, 12, 500)]
    assert delays == [
        timedelta(seconds=10),
        timedelta(seconds=20),
        timedelta(seconds=40),
        timedelta(seconds=80),
        timedelta(hours=1),
        timedelta(hours=1),
    ]
    assert backoff_delay(3, config, jitter=0.5) == timedelta(seconds=30)


async def test_a_delivery_is_given_up_once_the_retry_window_closes(
    clock: Clock, receiver: Receiver, make_dispatcher: MakeDispatcher
) -> None:
    receiver.statuses = [503]
    webhook = await make_webhook()
    await enqueue_publication(clock)
    created = clock.now
    dispatcher = make_dispatcher(max_failures=1000)

    delivery = await WebhookDelivery.get(webhook_id=webhook.id)
    while delivery.status is not DeliveryStatus.FAILED:
        await dispatcher.run_once()
        await delivery.refresh_from_db()
        assert delivery.status is not DeliveryStatus.SENDING
        clock.now = max(clock.now, delivery.next_attempt_at)

    attempts = await WebhookAttempt.filter(delivery_id=delivery.id)
    assert all(a.attempted_at - created <= timedelta(hours=24) for a in attempts)
    # 10 s doubling to the hourly cap, then hourly: about 30 attempts in 24 hours.
    assert 25 <= len(attempts) <= 35
    assert delivery.attempts == len(attempts)
    assert delivery.last_error == "The receiver answered HTTP 503."


async def test_the_outbox_survives_a_restart_before_anything_was_sent(
    clock: Clock, receiver: Receiver, make_dispatcher: MakeDispatcher
) -> None:
    await make_webhook()
    await enqueue_publication(clock)
    # The process that committed the change is gone before its dispatcher ran; a new one
    # (another worker, or the restarted process) finds the committed row.
    assert await make_dispatcher().run_once() == 1
    assert receiver.verified == [True]


async def test_a_delivery_claimed_by_a_dispatcher_that_died_is_taken_over_after_its_lease(
    clock: Clock, receiver: Receiver, make_dispatcher: MakeDispatcher
) -> None:
    webhook = await make_webhook()
    await enqueue_publication(clock)
    # A dispatcher claimed the row, then its process died mid-send.
    await WebhookDelivery.filter(webhook_id=webhook.id).update(
        status=DeliveryStatus.SENDING, lease_until=clock.now + timedelta(seconds=60)
    )
    successor = make_dispatcher()

    clock.advance(timedelta(seconds=30))
    assert await successor.run_once() == 0  # the lease still holds
    clock.advance(timedelta(seconds=31))
    assert await successor.run_once() == 1

    assert (await WebhookDelivery.get(webhook_id=webhook.id)).status is DeliveryStatus.DELIVERED
    assert len(receiver.requests) == 1


async def test_a_rolled_back_change_leaves_nothing_in_the_outbox(clock: Clock) -> None:
    await make_webhook()
    post = await make_post()

    async def failing_writer() -> None:
        async with in_transaction():
            await enqueue_webhook_events("post.updated", post_ids=[post.id], now=clock.now)
            raise RuntimeError("the writer failed after enqueueing")

    with pytest.raises(RuntimeError):
        await failing_writer()
    assert await WebhookDelivery.all().count() == 0


async def test_dispatchers_running_at_once_send_each_delivery_once(
    clock: Clock, receiver: Receiver, make_dispatcher: MakeDispatcher
) -> None:
    await make_webhook()
    await make_webhook(url="https://other.example.com/cms")
    for _ in range(5):
        await enqueue_publication(clock)

    sent = await asyncio.gather(*(make_dispatcher().run_once() for _ in range(3)))

    assert sum(sent) == 10
    delivered = {request.headers["x-cms-delivery"] for request in receiver.requests}
    assert len(receiver.requests) == len(delivered) == 10


async def test_a_webhook_is_disabled_after_repeated_failures_and_sends_nothing_more(
    clock: Clock, receiver: Receiver, make_dispatcher: MakeDispatcher
) -> None:
    receiver.statuses = [500]
    webhook = await make_webhook()
    await enqueue_publication(clock)
    await enqueue_publication(clock)
    dispatcher = make_dispatcher(max_failures=3)

    await dispatcher.run_once()  # two failures
    clock.advance(timedelta(minutes=1))
    await dispatcher.run_once()  # two more: the third disables it

    await webhook.refresh_from_db()
    assert not webhook.is_active
    assert webhook.disabled_reason == "Disabled after 3 failed attempts in a row."
    assert webhook.disabled_at is not None
    clock.advance(timedelta(hours=1))
    assert await dispatcher.run_once() == 0
    assert await WebhookDelivery.filter(status=DeliveryStatus.PENDING).count() == 2


async def test_a_name_that_now_resolves_to_loopback_is_refused_at_send_time(
    clock: Clock, receiver: Receiver, make_dispatcher: MakeDispatcher
) -> None:
    # The name was public when the webhook was saved; its DNS answer changed since.
    webhook = await make_webhook(url="https://rebind.example.com/cms")
    await enqueue_publication(clock)

    await make_dispatcher(allow_private=False, resolver=resolves_to("127.0.0.1")).run_once()

    assert receiver.requests == []
    delivery = await WebhookDelivery.get(webhook_id=webhook.id)
    assert delivery.status is DeliveryStatus.PENDING
    assert delivery.last_status_code is None
    assert "127.0.0.1, which is not a public address" in delivery.last_error


async def test_a_name_that_now_resolves_to_nat64_of_loopback_is_refused_at_send_time(
    clock: Clock, receiver: Receiver, make_dispatcher: MakeDispatcher
) -> None:
    webhook = await make_webhook(url="https://rebind.example.com/cms")
    await enqueue_publication(clock)

    await make_dispatcher(allow_private=False, resolver=resolves_to("64:ff9b::7f00:1")).run_once()

    assert receiver.requests == []
    delivery = await WebhookDelivery.get(webhook_id=webhook.id)
    assert delivery.status is DeliveryStatus.PENDING
    assert "64:ff9b::7f00:1, which is not a public address" in delivery.last_error


async def test_a_request_goes_to_the_address_that_was_checked(
    clock: Clock, receiver: Receiver, make_dispatcher: MakeDispatcher
) -> None:
    await make_webhook(url="https://hooks.example.com/cms")
    await enqueue_publication(clock)

    await make_dispatcher(allow_private=False, resolver=resolves_to("93.184.216.34")).run_once()

    (request,) = receiver.requests
    assert request.url.host == "93.184.216.34"
    assert request.headers["host"] == "hooks.example.com"
    assert request.extensions["sni_hostname"] == "hooks.example.com"


@pytest.mark.parametrize(
    ("respond", "status_code", "error"),
    [
        pytest.param(
            lambda request: httpx.Response(302, headers={"location": "http://127.0.0.1/"}),
            302,
            "The receiver answered HTTP 302.",
            id="redirect-not-followed",
        ),
        pytest.param(
            lambda request: (_ for _ in ()).throw(httpx.ConnectError("connection refused")),
            None,
            "ConnectError: connection refused",
            id="connection-refused",
        ),
    ],
)
async def test_an_attempt_that_gets_no_2xx_is_logged_as_failed(
    clock: Clock,
    make_dispatcher: MakeDispatcher,
    respond: object,
    status_code: int | None,
    error: str,
) -> None:
    webhook = await make_webhook()
    await enqueue_publication(clock)

    await make_dispatcher(transport=httpx.MockTransport(respond)).run_once()  # type: ignore[arg-type]

    delivery = await WebhookDelivery.get(webhook_id=webhook.id)
    (attempt,) = await WebhookAttempt.filter(delivery_id=delivery.id)
    assert (attempt.status_code, attempt.error) == (status_code, error)
    assert delivery.status is DeliveryStatus.PENDING


async def test_finished_deliveries_are_pruned_after_the_retention_period(
    clock: Clock, make_dispatcher: MakeDispatcher
) -> None:
    await make_webhook()
    await enqueue_publication(clock)
    dispatcher = make_dispatcher(retention=timedelta(days=30))
    await dispatcher.run_once()
    await enqueue_publication(clock)  # still pending: never pruned

    clock.advance(timedelta(days=31))
    assert await dispatcher.prune() == 1
    assert await WebhookDelivery.filter(status=DeliveryStatus.PENDING).count() == 1
