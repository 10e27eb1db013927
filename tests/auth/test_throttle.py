"""Login throttling: a burst per key, then one attempt per refill interval."""

from __future__ import annotations

import pytest

from cms.auth.throttle import LoginThrottle


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def throttle(clock: FakeClock) -> LoginThrottle:
    return LoginThrottle(burst=10, refill_seconds=30, clock=clock)


def test_a_burst_of_ten_is_allowed_then_the_eleventh_waits_thirty_seconds(
    throttle: LoginThrottle,
) -> None:
    assert [throttle.attempt("account:a") for _ in range(10)] == [0.0] * 10
    assert throttle.attempt("account:a") == pytest.approx(30.0)


def test_one_attempt_comes_back_per_refill_interval(
    throttle: LoginThrottle, clock: FakeClock
) -> None:
    for _ in range(10):
        throttle.attempt("account:a")
    clock.advance(29)
    assert throttle.attempt("account:a") == pytest.approx(1.0)
    clock.advance(1)
    assert throttle.attempt("account:a") == 0.0
    assert throttle.attempt("account:a") == pytest.approx(30.0)


def test_a_long_pause_restores_the_burst_but_no_more(
    throttle: LoginThrottle, clock: FakeClock
) -> None:
    for _ in range(10):
        throttle.attempt("account:a")
    clock.advance(24 * 3600)
    assert [throttle.attempt("account:a") for _ in range(10)] == [0.0] * 10
    assert throttle.attempt("account:a") > 0


def test_keys_are_counted_separately(throttle: LoginThrottle) -> None:
    for _ in range(10):
        throttle.attempt("account:a", "address:1")
    assert throttle.attempt("account:a", "address:2") > 0  # the account is exhausted
    assert throttle.attempt("account:b", "address:1") > 0  # so is the address
    assert throttle.attempt("account:b", "address:2") == 0.0


def test_a_refused_attempt_counts_against_none_of_its_keys(throttle: LoginThrottle) -> None:
    for _ in range(10):
        throttle.attempt("address:1")
    # Refused by the address: the account must not lose attempts it never got to make.
    for _ in range(5):
        assert throttle.attempt("account:a", "address:1") > 0
    assert [throttle.attempt("account:a") for _ in range(10)] == [0.0] * 10


def test_idle_keys_are_forgotten_when_too_many_are_tracked(clock: FakeClock) -> None:
    throttle = LoginThrottle(burst=2, refill_seconds=10, clock=clock, max_keys=3)
    throttle.attempt("account:idle")
    throttle.attempt("account:busy")
    throttle.attempt("account:busy")
    clock.advance(10)  # "idle" is full again, "busy" is not
    throttle.attempt("account:new-1")
    throttle.attempt("account:new-2")
    assert set(throttle._buckets) == {"account:busy", "account:new-1", "account:new-2"}
    # Still throttled: forgetting only drops keys whose buckets were full anyway.
    throttle.attempt("account:busy")
    assert throttle.attempt("account:busy") > 0
