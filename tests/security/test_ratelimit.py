"""Per-client rate limits (requests, cost points, logins) and who the client is behind proxies.

The buckets take an injected clock, so that refilling is tested by moving time, not waiting.
"""

from __future__ import annotations

import socket
import time

import pytest

from cms.limit_store import LimitStore
from cms.web.client_address import client_key
from cms.web.proxies import TrustedProxies
from cms.web.ratelimit import Decision, Limit, decide
from tests.helpers import assert_max_queries
from tests.security.conftest import OpenClient, codes

TYPENAME = {"query": "{ __typename }"}


class Clock:
    """Stands in for time.time, which the limits library reads."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0  # a window boundary for windows of 60 s

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(time, "time", clock)
    return clock


async def take(limit: Limit, key: str, amount: int = 1) -> Decision:
    decision = await limit.take(key, amount)
    assert decision is not None, "the in-process store is always reachable"
    return decision


async def test_an_allowance_is_spent_at_once_then_comes_back_as_the_window_slides(
    clock: Clock,
) -> None:
    limit = Limit(LimitStore(), 3, name="test")
    taken = [await take(limit, "a") for _ in range(4)]
    assert [decision.allowed for decision in taken] == [True, True, True, False]
    refused = taken[3]
    # All three were spent at the start of a window: they weigh fully until it ends.
    assert (refused.remaining, refused.retry_after, refused.reset) == (0, 60, 120)
    assert (await take(limit, "b")) == taken[0], "another client has its own allowance"
    clock.now += 80  # a third of the previous window's spending has left the window
    assert (await take(limit, "a")).allowed
    refused_again = await take(limit, "a")
    assert not refused_again.allowed
    assert refused_again.retry_after == 1  # the weighted count drops below 3 at once


async def test_a_refused_amount_takes_nothing(clock: Clock) -> None:
    limit = Limit(LimitStore(), 100, name="test")
    assert (await take(limit, "a", 60)).allowed
    refused = await take(limit, "a", 60)
    assert not refused.allowed
    assert refused.remaining == 40
    assert (await take(limit, "a", 40)).allowed


@pytest.mark.parametrize(
    ("window", "amount", "retry_after"),
    [
        # 100 in the previous window, half of which still weighs, and 20 in the current one
        # (which ends in 30 s): 40 more fit once the previous weighs 40, in 5.4 s.
        pytest.param((100, 30.0, 20, 90.0), 40, 6, id="previous-decays"),
        # 100 spent in the current window: it must end (10 s) and its count decay to 50.
        pytest.param((0, 0.0, 100, 70.0), 50, 40, id="current-must-decay"),
        pytest.param((0, 0.0, 100, 70.0), 500, 70, id="never-fits"),
    ],
)
def test_the_retry_time_is_when_the_decaying_count_lets_the_amount_in(
    window: tuple[int, float, int, float], amount: int, retry_after: int
) -> None:
    decision = decide(window, limit=100, amount=amount, allowed=False, expiry=60)
    assert decision.retry_after == retry_after


@pytest.mark.parametrize(
    ("host", "key"),
    [
        ("203.0.113.7", "203.0.113.7"),
        ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:bbbb::9", "2001:db8:1:2::/64"),
        ("::ffff:203.0.113.7", "203.0.113.7"),
        ("testclient", "testclient"),
        ("", "unknown"),
    ],
)
def test_clients_are_keyed_by_address_and_ipv6_by_64_network(host: str, key: str) -> None:
    assert client_key(host) == key


@pytest.mark.parametrize(
    ("peer", "forwarded", "client"),
    [
        pytest.param("10.0.0.2", "203.0.113.7", "203.0.113.7", id="trusted-proxy"),
        pytest.param("198.51.100.9", "203.0.113.7", "198.51.100.9", id="untrusted-peer"),
        pytest.param(
            "10.0.0.2", "1.2.3.4, 203.0.113.7, 10.0.0.3", "203.0.113.7", id="forged-left-entry"
        ),
        pytest.param("10.0.0.2", "10.0.0.5, 10.0.0.3", "10.0.0.5", id="all-proxies"),
        pytest.param("10.0.0.2", "not-an-address", "10.0.0.2", id="garbage"),
        pytest.param("10.0.0.2", None, "10.0.0.2", id="no-header"),
    ],
)
def test_x_forwarded_for_is_read_from_the_right_and_only_from_trusted_proxies(
    peer: str, forwarded: str | None, client: str
) -> None:
    assert TrustedProxies(["10.0.0.0/24"]).client(peer, forwarded) == client


def test_no_proxy_is_trusted_by_default() -> None:
    assert TrustedProxies([]).client("127.0.0.1", "203.0.113.7") == "127.0.0.1"


# Guards CMS_RATE_LIMIT_REQUESTS (RateLimitMiddleware): 429 with the draft's headers.
async def test_a_client_over_its_request_allowance_gets_429_until_the_window_slides(
    app_client: OpenClient, clock: Clock
) -> None:
    async with app_client(rate_limit_requests=2) as client:
        first = await client.post("/graphql", json=TYPENAME)
        await client.post("/graphql", json=TYPENAME)
        refused = await client.post("/graphql", json=TYPENAME)
        clock.now += 90  # half of the previous window's two requests still count
        again = await client.post("/graphql", json=TYPENAME)
    assert first.status_code == 200
    assert first.headers["RateLimit-Limit"] == "2"
    assert first.headers["RateLimit-Remaining"] == "1"
    assert first.headers["RateLimit-Policy"] == "2;w=60"
    assert refused.status_code == 429
    assert codes(refused.json()) == ["RATE_LIMITED"]
    assert refused.json()["errors"][0]["extensions"]["retryAfter"] == 60
    assert refused.headers["Retry-After"] == "60"
    assert refused.headers["RateLimit-Remaining"] == "0"
    assert refused.headers["RateLimit-Reset"] == "120"
    assert again.status_code == 200


async def test_health_probes_are_not_rate_limited(app_client: OpenClient) -> None:
    async with app_client(rate_limit_requests=1) as client:
        statuses = [(await client.get("/healthz")).status_code for _ in range(3)]
    assert statuses == [200, 200, 200]


async def test_a_limit_of_zero_is_no_limit(app_client: OpenClient) -> None:
    async with app_client(rate_limit_requests=0) as client:
        responses = [await client.post("/graphql", json=TYPENAME) for _ in range(5)]
    assert {response.status_code for response in responses} == {200}
    assert "RateLimit-Limit" not in responses[0].headers


# Guards CMS_TRUSTED_PROXIES: without trust, X-Forwarded-For cannot buy a fresh bucket.
async def test_forging_x_forwarded_for_does_not_escape_the_limit(app_client: OpenClient) -> None:
    async with app_client(rate_limit_requests=1) as client:
        await client.post("/graphql", json=TYPENAME, headers={"X-Forwarded-For": "192.0.2.1"})
        forged = await client.post(
            "/graphql", json=TYPENAME, headers={"X-Forwarded-For": "192.0.2.2"}
        )
    assert forged.status_code == 429


async def test_behind_a_trusted_proxy_each_client_has_its_own_bucket(
    app_client: OpenClient,
) -> None:
    # The test transport's peer is 127.0.0.1, standing for the proxy.
    async with app_client(rate_limit_requests=1, trusted_proxies=["127.0.0.1"]) as client:
        one = await client.post("/graphql", json=TYPENAME, headers={"X-Forwarded-For": "192.0.2.1"})
        two = await client.post("/graphql", json=TYPENAME, headers={"X-Forwarded-For": "192.0.2.2"})
        one_again = await client.post(
            "/graphql", json=TYPENAME, headers={"X-Forwarded-For": "192.0.2.1"}
        )
    assert (one.status_code, two.status_code, one_again.status_code) == (200, 200, 429)


POSTS_30 = "{ posts(first: 30) { edges { node { title } } } }"


# Guards CMS_RATE_LIMIT_COST (OperationGuard._charge): 30 points twice fit in 60, not thrice.
async def test_a_client_over_its_cost_allowance_gets_429_before_any_sql(
    app_client: OpenClient, clock: Clock
) -> None:
    async with app_client(rate_limit_cost=60, max_query_cost=60) as client:
        spent = [await client.post("/graphql", json={"query": POSTS_30}) for _ in range(2)]
        async with assert_max_queries(0):
            refused = await client.post("/graphql", json={"query": POSTS_30})
    assert {response.status_code for response in spent} == {200}
    assert refused.status_code == 429
    [error] = refused.json()["errors"]
    assert error["extensions"]["code"] == "RATE_LIMITED"
    assert "query cost points" in error["message"]
    assert refused.headers["RateLimit-Limit"] == "60"
    # The window ends in 60 s; then its 60 points must decay to 30: 29 s more.
    assert refused.headers["Retry-After"] == "89"


LOGIN_ERRORS = (
    'mutation { login(input: {email: "a@b.example", password: "x"}) { errors { code } } }'
)
ONE_LOGIN = 'mutation { login(input: {email: "a@b.example", password: "x"}) { token } }'
LOGINS = """
mutation {
  a: login(input: {email: "a@example.com", password: "guess-one"}) { token }
  b: login(input: {email: "b@example.com", password: "guess-two"}) { token }
  c: login(input: {email: "c@example.com", password: "guess-three"}) { token }
}
"""


# Guards CMS_RATE_LIMIT_LOGINS: each aliased `login` is an attempt, counted before any hashing.
async def test_sign_in_attempts_past_the_allowance_are_refused_before_any_work(
    app_client: OpenClient,
) -> None:
    async with app_client(rate_limit_logins=2) as client:
        async with assert_max_queries(0):
            refused = await client.post("/graphql", json={"query": LOGINS})
        allowed = await client.post("/graphql", json={"query": ONE_LOGIN})
    assert refused.status_code == 429
    [error] = refused.json()["errors"]
    assert error["extensions"]["code"] == "RATE_LIMITED"
    assert "sign-in attempts" in error["message"]
    assert allowed.status_code == 200, "the refused attempts should have cost nothing"


def unreachable_redis() -> str:
    """A Redis URL nothing answers at (a port just freed)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"redis://127.0.0.1:{port}/0"


# An outage of the shared counters must not become an outage of the site, nor open the door
# to password guessing.
async def test_without_its_store_the_api_answers_and_sign_in_waits(
    app_client: OpenClient,
) -> None:
    async with app_client(redis_url=unreachable_redis(), rate_limit_requests=1) as client:
        answered = [await client.post("/graphql", json=TYPENAME) for _ in range(3)]
        login = await client.post("/graphql", json={"query": LOGIN_ERRORS})
    assert {response.status_code for response in answered} == {200}
    assert "RateLimit-Limit" not in answered[0].headers
    assert login.json()["data"]["login"]["errors"][0]["code"] == "THROTTLED"
