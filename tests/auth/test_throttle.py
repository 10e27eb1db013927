"""Login throttling: per address, per account from an address, and an account's back-off.

The limits library reads time.time, which the ``clock`` fixture replaces, so that time moves
by assignment rather than by waiting.
"""

from __future__ import annotations

import time

import pytest

from cms.auth.throttle import LoginThrottle
from cms.limit_store import LimitStore


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(time, "time", clock)
    return clock


@pytest.fixture
def throttle(clock: Clock) -> LoginThrottle:
    return LoginThrottle(LimitStore(), burst=10, refill_seconds=30, max_backoff=900)


async def fail(throttle: LoginThrottle, account: str, address: str, times: int) -> list[float]:
    """``times`` wrong passwords: the waits the throttle answered."""
    waits = []
    for _ in range(times):
        wait = await throttle.attempt(account, address)
        if not wait:
            await throttle.failed(account)
        waits.append(wait)
    return waits


async def test_a_burst_of_ten_is_allowed_then_the_address_waits_for_the_oldest_to_leave(
    throttle: LoginThrottle, clock: Clock
) -> None:
    waits = await fail(throttle, "ada@example.org", "192.0.2.1", 11)
    assert waits[:10] == [0.0] * 10
    assert waits[10] == pytest.approx(300.0)  # ten in any 10 x 30 s
    clock.now += 301
    assert await throttle.attempt("ada@example.org", "192.0.2.1") == 0.0


async def test_one_address_cannot_spray_many_accounts(throttle: LoginThrottle) -> None:
    for n in range(30):
        await fail(throttle, f"user{n}@example.org", "192.0.2.1", 1)
    assert await throttle.attempt("user30@example.org", "192.0.2.1") > 0
    assert await throttle.attempt("user30@example.org", "192.0.2.2") == 0.0


# The scenario (#12, item 7): a stranger's wrong guesses do not lock the owner out.
async def test_failures_from_one_address_leave_the_owner_at_another_one_attempt(
    throttle: LoginThrottle,
) -> None:
    waits = await fail(throttle, "admin@example.org", "192.0.2.66", 12)
    assert waits[10:] != [0.0, 0.0], "the stranger is throttled"
    assert await throttle.attempt("admin@example.org", "198.51.100.7") == 0.0


async def test_an_account_under_attack_gives_each_address_one_attempt_per_back_off(
    throttle: LoginThrottle, clock: Clock
) -> None:
    # Forty failures, from many addresses: the back-off has doubled twice (30, 60, 120 s).
    for n in range(40):
        await fail(throttle, "admin@example.org", f"203.0.113.{n}", 1)
    assert throttle.backoff(await throttle.failures("admin@example.org")) == 120
    assert await throttle.attempt("admin@example.org", "198.51.100.7") == 0.0
    second = await throttle.attempt("admin@example.org", "198.51.100.7")
    assert second == pytest.approx(120.0)
    clock.now += 121
    assert await throttle.attempt("admin@example.org", "198.51.100.7") == 0.0


def test_the_back_off_doubles_with_the_failures_up_to_its_cap(throttle: LoginThrottle) -> None:
    assert [throttle.backoff(n) for n in (0, 9, 10, 19, 20, 40, 80, 10_000)] == [
        0,
        0,
        30,
        30,
        60,
        120,
        240,
        900,
    ]


async def test_a_success_clears_the_address_failures_on_that_account(
    throttle: LoginThrottle,
) -> None:
    await fail(throttle, "ada@example.org", "192.0.2.1", 4)
    assert await throttle.attempt("ada@example.org", "192.0.2.1") == 0.0
    await throttle.succeeded("ada@example.org", "192.0.2.1")
    # Five more failures (nine on the account, short of its back-off): without the success,
    # these would make ten attempts from the address on the account.
    assert await fail(throttle, "ada@example.org", "192.0.2.1", 5) == [0.0] * 5
    assert await throttle.attempt("ada@example.org", "192.0.2.1") == 0.0


async def test_a_refused_attempt_counts_against_none_of_its_keys(
    throttle: LoginThrottle, clock: Clock
) -> None:
    for n in range(30):
        await fail(throttle, f"user{n}@example.org", "192.0.2.1", 1)
    # Refused by the address: Ada's count from it must not grow by attempts never made.
    for _ in range(5):
        assert await throttle.attempt("ada@example.org", "192.0.2.1") > 0
    clock.now += 301
    waits = await fail(throttle, "ada@example.org", "192.0.2.1", 11)
    assert waits[:10] == [0.0] * 10
    assert waits[10] > 0
