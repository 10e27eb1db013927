"""Password hashing: argon2id with argon2-cffi's default parameters, off the event loop.

Hashing is deliberately slow and memory-hard (tens of milliseconds and ~64 MiB per hash with the
defaults), so it runs in a worker thread, and a semaphore caps how many hashes one process
computes at once: a burst of logins queues up instead of exhausting memory or starving every
other request of CPU.

When argon2-cffi's defaults grow stronger, stored hashes keep working (each hash records its own
parameters) and ``PasswordHashing.check`` reports that the hash needs to be recomputed, which
login does with the password it has just verified.
"""

from __future__ import annotations

import asyncio
import secrets
import weakref
from dataclasses import dataclass, field
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from cms.errors import InvalidInput

MIN_PASSWORD_LENGTH = 12
# Longer passwords add nothing but hashing work an attacker could make us do.
MAX_PASSWORD_LENGTH = 1024

__all__ = [
    "MAX_PASSWORD_LENGTH",
    "MIN_PASSWORD_LENGTH",
    "PasswordHashing",
    "Verification",
    "check_password_rules",
    "generate_password",
    "password_hashing",
]


def check_password_rules(password: str, *, field: str = "password") -> None:
    """Reject passwords too short to resist guessing (or absurdly long)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(
            f"The password must be at least {MIN_PASSWORD_LENGTH} characters long.", field=field
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise InvalidInput(
            f"The password must be at most {MAX_PASSWORD_LENGTH} characters long.", field=field
        )


def generate_password() -> str:
    """A random password for an operator to hand over: 32 URL-safe characters (192 bits)."""
    return secrets.token_urlsafe(24)


@dataclass(frozen=True)
class Verification:
    """The outcome of checking a password against a stored hash."""

    matches: bool
    # True when the hash was made with other parameters than the current ones.
    needs_rehash: bool = False


@dataclass
class PasswordHashing:
    """Hashes and verifies passwords, at most ``concurrency`` at a time in this process."""

    concurrency: int
    hasher: PasswordHasher = field(default_factory=PasswordHasher)
    # asyncio primitives belong to one event loop; the CLI and the tests may run several.
    _semaphores: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = field(
        default_factory=weakref.WeakKeyDictionary, init=False, repr=False
    )
    _decoy_hash: str | None = field(default=None, init=False, repr=False)

    async def hash(self, password: str) -> str:
        """A new argon2id hash of ``password`` with the current parameters."""
        async with self._semaphore():
            return await asyncio.to_thread(self.hasher.hash, password)

    async def check(self, password_hash: str | None, password: str) -> Verification:
        """Whether ``password`` matches ``password_hash``.

        A missing hash (an account that cannot log in) is checked against a decoy hash, so
        that the answer takes as long as for a real account and timing does not reveal which
        email addresses exist.
        """
        if password_hash is None:
            await self._verify(await self._decoy(), password)
            return Verification(matches=False)
        if not await self._verify(password_hash, password):
            return Verification(matches=False)
        return Verification(
            matches=True, needs_rehash=self.hasher.check_needs_rehash(password_hash)
        )

    async def _verify(self, password_hash: str, password: str) -> bool:
        async with self._semaphore():
            try:
                return await asyncio.to_thread(self.hasher.verify, password_hash, password)
            except (VerificationError, InvalidHashError):
                # VerifyMismatchError is a VerificationError; a corrupt hash matches nothing.
                return False

    async def _decoy(self) -> str:
        if self._decoy_hash is None:
            self._decoy_hash = await self.hash("decoy password, never matches a real one")
        return self._decoy_hash

    def _semaphore(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        semaphore = self._semaphores.get(loop)
        if semaphore is None:
            semaphore = self._semaphores[loop] = asyncio.Semaphore(self.concurrency)
        return semaphore


@cache
def password_hashing(concurrency: int) -> PasswordHashing:
    """The process-wide hasher for a concurrency limit: one semaphore per process, not per call."""
    return PasswordHashing(concurrency=concurrency)
