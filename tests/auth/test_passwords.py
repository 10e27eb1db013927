"""Password hashing: argon2id defaults, verification, rehash detection, bounded concurrency."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest
from argon2 import PasswordHasher

from cms.auth.passwords import PasswordHashing, check_password_rules
from cms.errors import InvalidInput

PASSWORD = "correct horse battery staple"
# Weaker than argon2-cffi's defaults: what an older release of the CMS might have stored.
OLD_PARAMETERS = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1)


@pytest.fixture(scope="module")
def stored_hash() -> str:
    return PasswordHasher().hash(PASSWORD)


async def test_hashes_are_argon2id_with_the_library_defaults() -> None:
    password_hash = await PasswordHashing(concurrency=2).hash(PASSWORD)
    assert password_hash.startswith("$argon2id$")
    assert PASSWORD not in password_hash
    assert not PasswordHasher().check_needs_rehash(password_hash)


async def test_the_right_password_matches_and_needs_no_rehash(stored_hash: str) -> None:
    verification = await PasswordHashing(concurrency=2).check(stored_hash, PASSWORD)
    assert verification.matches
    assert not verification.needs_rehash


@pytest.mark.parametrize(
    ("password_hash", "password"),
    [
        pytest.param(None, PASSWORD, id="account-without-password"),
        pytest.param("$argon2id$v=19$m=65536,t=3,p=4$garbage", PASSWORD, id="corrupt-hash"),
        pytest.param("not a hash at all", PASSWORD, id="not-a-hash"),
    ],
)
async def test_missing_or_corrupt_hashes_match_nothing(
    password_hash: str | None, password: str
) -> None:
    verification = await PasswordHashing(concurrency=2).check(password_hash, password)
    assert not verification.matches


async def test_a_wrong_password_does_not_match(stored_hash: str) -> None:
    verification = await PasswordHashing(concurrency=2).check(stored_hash, PASSWORD + "!")
    assert not verification.matches


async def test_a_hash_made_with_older_parameters_needs_a_rehash() -> None:
    verification = await PasswordHashing(concurrency=2).check(
        OLD_PARAMETERS.hash(PASSWORD), PASSWORD
    )
    assert verification.matches
    assert verification.needs_rehash


class _SlowCountingHasher(PasswordHasher):
    """Sleeps instead of hashing, and records how many calls overlapped."""

    def __init__(self) -> None:
        super().__init__()
        self.lock = threading.Lock()
        self.running = 0
        self.most_at_once = 0
        self.threads: set[int] = set()

    def hash(self, password: str | bytes, *, salt: bytes | None = None) -> str:
        with self.lock:
            self.running += 1
            self.most_at_once = max(self.most_at_once, self.running)
            self.threads.add(threading.get_ident())
        time.sleep(0.05)
        with self.lock:
            self.running -= 1
        return "$argon2id$fake"


async def test_hashing_runs_in_threads_at_most_concurrency_at_a_time() -> None:
    hasher = _SlowCountingHasher()
    hashing = PasswordHashing(concurrency=2, hasher=hasher)
    await asyncio.gather(*(hashing.hash(PASSWORD) for _ in range(6)))
    # Two at once proves the work left the event loop; never three proves the bound.
    assert hasher.most_at_once == 2
    assert threading.get_ident() not in hasher.threads


@pytest.mark.parametrize(
    ("password", "accepted"),
    [
        pytest.param("x" * 11, False, id="eleven-characters"),
        pytest.param("x" * 12, True, id="twelve-characters"),
        pytest.param("x" * 1025, False, id="over-1024-characters"),
    ],
)
def test_passwords_need_twelve_characters(password: str, accepted: bool) -> None:
    if accepted:
        check_password_rules(password)
    else:
        with pytest.raises(InvalidInput) as raised:
            check_password_rules(password)
        assert raised.value.field == "password"
