"""The in-process limit storage: the library's MemoryStorage answers, without its walk over keys.

Contract tests run on both stores, ours and ``limits.aio.storage.MemoryStorage``, through the
library's strategies, so that any divergence fails. The strategies and the library's store read
``time.time``, which the ``clock`` fixture replaces (ours reads it too unless given a clock), so
time moves by assignment and never by waiting.

The library's store sweeps in a background task that only runs when the test yields to the
event loop, which these tests do not do (except where they wait for that task on purpose). Its
answers then still show keys past their expiry in two places our code does not read: the start
of an empty moving window (``get_moving_window`` gives the oldest expired hit, not now) and
``get_expiry``. Ours answers what the library answers once swept; the comparisons below skip
those two cases.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable

import pytest
from limits import RateLimitItemPerMinute, RateLimitItemPerSecond
from limits.aio.storage import MemoryStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter, SlidingWindowCounterRateLimiter

from cms.limit_store import LimitStore
from cms.limit_store.memory import COMPACT_SLACK, SWEEP_BUDGET, BoundedMemoryStorage

START = 1_800_000_000.0  # a multiple of 60: the sliding windows' minutes start on it


class Clock:
    """Stands in for time.time; counts how often it is read."""

    def __init__(self) -> None:
        self.now = START
        self.reads = 0

    def __call__(self) -> float:
        self.reads += 1
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(time, "time", clock)
    return clock


STORES: dict[str, Callable[[], Storage]] = {
    "library": MemoryStorage,
    "bounded": BoundedMemoryStorage,
}


@pytest.fixture(params=list(STORES))
def store(request: pytest.FixtureRequest, clock: Clock) -> Storage:
    return STORES[request.param]()


def test_limit_store_counts_in_the_bounded_store_without_redis() -> None:
    assert isinstance(LimitStore().storage, BoundedMemoryStorage)


# Contract: the operations cms.web.ratelimit and cms.auth.throttle use, on both stores.


async def test_sliding_window_with_costs(store: Storage, clock: Clock) -> None:
    limiter = SlidingWindowCounterRateLimiter(store)
    item = RateLimitItemPerMinute(10, namespace="requests")
    clock.now += 15
    assert await limiter.hit(item, "a", cost=4)
    assert await limiter.hit(item, "a", cost=6)
    assert not await limiter.test(item, "a")
    assert not await limiter.hit(item, "a")
    assert await limiter.hit(item, "b", cost=10), "clients count apart"
    assert not await limiter.hit(item, "c", cost=11), "more than the limit never fits"
    assert await limiter.get_window_stats(item, "a") == (START + 60, 0)

    clock.now += 75  # half-way through the next minute: the previous 10 weigh 5
    assert (await limiter.get_window_stats(item, "a")).remaining == 5
    assert await limiter.test(item, "a", cost=5)
    assert not await limiter.test(item, "a", cost=6)
    assert await limiter.hit(item, "a", cost=5)
    assert not await limiter.hit(item, "a")
    window = await store.get_sliding_window(item.key_for("a"), 60)  # type: ignore[attr-defined]
    assert window == (10, 30.0, 5, 90.0)

    clock.now += 60  # the 5 weigh 2.5, and one of them leaves every 12 s
    assert await limiter.get_window_stats(item, "a") == (START + 156, 8)
    await limiter.clear(item, "a")
    assert (await limiter.get_window_stats(item, "a")).remaining == 10


async def test_moving_window_with_costs(store: Storage, clock: Clock) -> None:
    limiter = MovingWindowRateLimiter(store)
    item = RateLimitItemPerSecond(3, 10, namespace="login-pair")
    assert await limiter.hit(item, "a")
    clock.now += 4
    assert await limiter.hit(item, "a", cost=2)
    assert not await limiter.test(item, "a")
    assert not await limiter.hit(item, "a")
    assert await limiter.get_window_stats(item, "a") == (START + 10, 0)

    clock.now += 6.5  # the first hit has left the window; the two at +4 have not
    assert await limiter.get_window_stats(item, "a") == (START + 14, 1)
    assert not await limiter.hit(item, "a", cost=2)
    assert await limiter.hit(item, "a")
    clock.now += 4
    assert await limiter.get_window_stats(item, "a") == (START + 20.5, 2)

    await limiter.clear(item, "a")
    assert (await limiter.get_window_stats(item, "a")).remaining == 3
    assert not await limiter.hit(item, "a", cost=4)


async def test_counters(store: Storage, clock: Clock) -> None:
    assert await store.get("failures") == 0
    assert await store.incr("failures", 3600) == 1
    clock.now += 1000
    assert await store.incr("failures", 3600, amount=2) == 3
    assert await store.get("failures") == 3
    assert await store.get_expiry("failures") == START + 3600, "set when the count starts"
    assert await store.decr("failures") == 2  # type: ignore[attr-defined]
    clock.now += 2600
    assert await store.get("failures") == 0, "gone when its expiry is reached"
    assert await store.incr("failures", 3600) == 1
    await store.clear("failures")
    assert await store.get("failures") == 0
    assert await store.get_expiry("failures") == clock.now


async def test_a_random_mix_of_operations_answers_alike_on_both_stores(clock: Clock) -> None:
    stores: list[Storage] = [MemoryStorage(), BoundedMemoryStorage()]
    sliding = [SlidingWindowCounterRateLimiter(s) for s in stores]
    moving = [MovingWindowRateLimiter(s) for s in stores]
    per_minute = RateLimitItemPerMinute(12, namespace="cost")
    burst = RateLimitItemPerSecond(5, 30, namespace="login-address")
    rng = random.Random(20261206)

    async def run(i: int, name: str, client: str, cost: int, expiry: int) -> object:
        match name:
            case "sliding hit":
                return await sliding[i].hit(per_minute, client, cost=cost)
            case "sliding test":
                return await sliding[i].test(per_minute, client, cost=cost)
            case "sliding stats":
                return await sliding[i].get_window_stats(per_minute, client)
            case "moving hit":
                return await moving[i].hit(burst, client, cost=min(cost, 3))
            case "moving test":
                return await moving[i].test(burst, client, cost=min(cost, 3))
            case "moving stats":
                return await moving[i].get_window_stats(burst, client)
            case "moving clear":
                await moving[i].clear(burst, client)
                return None
            case "incr":
                return await stores[i].incr(client, expiry, amount=cost)
            case _:
                return await stores[i].get(client)

    names = ["sliding hit", "sliding test", "sliding stats", "moving hit", "moving test"]
    names += ["moving stats", "moving clear", "incr", "get"]
    for _ in range(3000):
        clock.now += rng.choice([0, 0, 0.5, 1, 3, 7, 20])
        step = (rng.choice(names), f"client{rng.randrange(6)}", rng.randint(1, 6))
        expiry = rng.choice([5, 30, 90])
        library, bounded = [await run(i, *step, expiry) for i in range(2)]
        if step[0] == "moving stats" and bounded == (clock.now + burst.get_expiry(), burst.amount):
            # An empty window: the library may still hold expired hits (see the docstring).
            assert library.remaining == burst.amount  # type: ignore[attr-defined]
            continue
        assert library == bounded, f"{step} at {clock.now - START} s"


# Scale: the cost of a hit does not grow with the number of clients.


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(
            MemoryStorage,
            id="library",
            marks=pytest.mark.xfail(strict=True, reason="the library's sweep visits every key"),
        ),
        pytest.param(BoundedMemoryStorage, id="bounded"),
    ],
)
async def test_a_hit_does_not_visit_every_client(make: Callable[[], Storage], clock: Clock) -> None:
    store = make()
    limiter = SlidingWindowCounterRateLimiter(store)
    item = RateLimitItemPerMinute(600, namespace="requests")
    for n in range(50_000):
        await limiter.hit(item, f"2001:db8:0:{n:x}::/64")
    await settle(store)
    clock.reads = 0
    assert await limiter.hit(item, "192.0.2.1")
    await settle(store)
    # The library's sweep reads the clock once per key it visits; ours once per operation.
    assert clock.reads <= 4


async def settle(store: Storage) -> None:
    """Let the library's background sweep (if any: ours has none) run to its end."""
    if isinstance(store, MemoryStorage) and store.timer is not None:
        await store.timer


async def test_the_sweep_runs_at_most_once_a_second_and_visits_only_what_expired() -> None:
    clock = Clock()
    store = BoundedMemoryStorage(clock=clock)
    for n in range(1, 101):
        await store.incr(f"key{n}", expiry=n / 100)  # expires within the coming second
    for n in range(10_000):
        await store.incr(f"lasting{n}", expiry=3600)
    clock.now += 0.5
    visited = store.visited
    assert await store.get("lasting0") == 1
    assert store.visited == visited, "no sweep within a second of the last"
    assert await store.get("key1") == 0, "expired keys read as absent before any sweep"
    clock.now += 0.5
    await store.get("lasting0")
    # One visit per expired key (key1's too, though reading it had dropped it): none of the rest.
    assert store.visited - visited == 100
    assert len(store) == 10_000


async def test_expired_keys_are_removed_within_a_budget_per_operation() -> None:
    clock = Clock()
    store = BoundedMemoryStorage(clock=clock)
    limiter = SlidingWindowCounterRateLimiter(store)
    item = RateLimitItemPerMinute(600, namespace="requests")
    for n in range(50_000):
        await limiter.hit(item, f"2001:db8:0:{n:x}::/64")
    assert len(store) == 50_000
    clock.now += 121  # past both windows: every counter has expired
    visited = store.visited
    await limiter.hit(item, "192.0.2.1")
    assert store.visited - visited <= SWEEP_BUDGET, "one operation sweeps a bounded amount"
    for _ in range(50_000 // SWEEP_BUDGET):
        await limiter.test(item, "192.0.2.1")
    assert len(store) == 1, "only the newest client's counter is held"


async def test_past_the_cap_the_key_that_expires_soonest_is_evicted() -> None:
    clock = Clock()
    store = BoundedMemoryStorage(max_keys=100, clock=clock)
    limiter = MovingWindowRateLimiter(store)
    item = RateLimitItemPerSecond(2, 300, namespace="login-address")
    assert await limiter.hit(item, "first")
    for n in range(99):
        clock.now += 1
        await store.incr(f"counter{n}", 120)
    clock.now += 1
    assert await limiter.hit(item, "first"), "a later hit moves its window's expiry"
    for n in range(50):
        await store.incr(f"newer{n}", 120)
    assert len(store) == 100
    assert store.evicted == 50
    assert [await store.get(f"counter{n}") for n in (0, 49, 50, 98)] == [0, 0, 1, 1]
    assert not await limiter.test(item, "first"), "the window that expires last was kept"


async def test_cleared_keys_do_not_pile_up_in_the_heap() -> None:
    store = BoundedMemoryStorage(clock=Clock())
    for n in range(20_000):
        await store.incr(f"pair{n}", 300)
        await store.clear(f"pair{n}")
    assert len(store) == 0
    assert len(store._heap) <= COMPACT_SLACK + 1
