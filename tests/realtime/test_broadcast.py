"""The broadcaster on its own: fan-out, bounded inboxes, the channel's message format."""

from __future__ import annotations

import pytest

from cms.realtime.broadcast import Broadcaster, decode, encode
from cms.services.events import ContentChanged, EventBus


def change(kind: str = "post.updated", *post_ids: int) -> ContentChanged:
    return ContentChanged(kind=kind, post_ids=frozenset(post_ids))


async def test_each_subscription_gets_only_the_changes_it_wants() -> None:
    broadcaster = Broadcaster()
    with (
        broadcaster.listen(lambda e: 1 in e.post_ids) as first,
        broadcaster.listen(lambda e: e.kind == "post.published") as published,
    ):
        await broadcaster.publish(change("post.updated", 1))
        await broadcaster.publish(change("post.published", 2))

        assert (await first.get()).post_ids == {1}
        assert first.queue.empty()
        assert (await published.get()).post_ids == {2}
    assert broadcaster.subscriber_count == 0


async def test_a_full_inbox_drops_its_oldest_change() -> None:
    broadcaster = Broadcaster(queue_size=2)
    with broadcaster.listen(lambda e: True) as inbox:
        for post_id in (1, 2, 3, 4):
            await broadcaster.publish(change("post.updated", post_id))

        assert inbox.dropped == 2
        assert [(await inbox.get()).post_ids for _ in range(2)] == [{3}, {4}]


async def test_the_broadcaster_hears_the_bus_only_while_running() -> None:
    bus = EventBus()
    broadcaster = Broadcaster()
    with broadcaster.listen(lambda e: True) as inbox:
        async with broadcaster.running(bus):
            await bus.content_changed(change("post.updated", 7))
        await bus.content_changed(change("post.updated", 8))

        assert (await inbox.get()).post_ids == {7}
        assert inbox.queue.empty()


def test_a_change_survives_the_channel_format() -> None:
    original = ContentChanged(
        kind="tag.updated",
        post_ids=frozenset({3, 1}),
        tag_ids=frozenset({9}),
        author_ids=frozenset({2}),
    )
    assert decode(encode(original)) == original


@pytest.mark.parametrize(
    "message",
    [
        pytest.param(b"{not json", id="not-json"),
        pytest.param(b"[1, 2]", id="not-an-object"),
        pytest.param(b'{"v": 2, "kind": "post.updated"}', id="unknown-version"),
        pytest.param(b'{"v": 1}', id="no-kind"),
        pytest.param(b'{"v": 1, "kind": "x", "post_ids": ["1"]}', id="ids-not-integers"),
        pytest.param(b'{"v": 1, "kind": "x", "tag_ids": 5}', id="ids-not-a-list"),
    ],
)
def test_a_malformed_channel_message_decodes_to_nothing(message: bytes) -> None:
    assert decode(message) is None
