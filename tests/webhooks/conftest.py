"""Fixtures for webhooks: a clock to move by hand, a receiver as an httpx transport."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from cms.models import Webhook
from cms.webhooks import DispatchConfig, Dispatcher
from cms.webhooks.signing import SIGNATURE_HEADER, verify

SECRET = "a-secret-of-sufficient-length"
START = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@dataclass
class Clock:
    now: datetime = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


@dataclass
class Receiver:
    """An httpx transport answering with ``statuses`` in turn (the last one repeats)."""

    clock: Clock
    statuses: list[int] = field(default_factory=lambda: [200])
    secret: str = SECRET
    requests: list[httpx.Request] = field(default_factory=list)
    verified: list[bool] = field(default_factory=list)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        self.verified.append(
            verify(
                self.secret,
                request.headers[SIGNATURE_HEADER],
                request.content,
                now=int(self.clock.now.timestamp()),
            )
        )
        status = self.statuses[min(len(self.requests), len(self.statuses)) - 1]
        return httpx.Response(status)

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def receiver(clock: Clock) -> Receiver:
    return Receiver(clock)


MakeDispatcher = Callable[..., Dispatcher]


@pytest.fixture
def make_dispatcher(clock: Clock, receiver: Receiver) -> MakeDispatcher:
    """A dispatcher sending to ``receiver`` on ``clock``, without jitter, private URLs allowed."""

    def make(**config: object) -> Dispatcher:
        transport = config.pop("transport", None) or receiver.transport()
        resolver = config.pop("resolver", None)
        options = {"allow_private": True, **config}
        extra = {"resolver": resolver} if resolver is not None else {}
        return Dispatcher(
            DispatchConfig(**options),  # type: ignore[arg-type]
            transport=transport,  # type: ignore[arg-type]
            clock=clock,
            jitter=lambda: 0.0,
            **extra,  # type: ignore[arg-type]
        )

    return make


async def make_webhook(**fields: object) -> Webhook:
    defaults: dict[str, object] = {
        "url": "https://hooks.example.com/cms",
        "events": ["post.published", "post.updated", "post.unpublished", "post.deleted"],
        "secret": SECRET,
    }
    return await Webhook.create(**{**defaults, **fields})
