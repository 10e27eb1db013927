"""How many WebSocket connections each client address may hold open at once.

Counted per worker process, like the login throttle: with several workers a client may hold
``limit`` connections on each. Behind a reverse proxy the address is the one uvicorn reports,
so run it with ``--proxy-headers`` and ``--forwarded-allow-ips`` naming the proxy, or every
client shares the proxy's address and its allowance.
"""

from __future__ import annotations

from collections import Counter

__all__ = ["ConnectionLimiter"]


class ConnectionLimiter:
    """Counts open connections per client address and refuses those beyond ``limit``."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._open: Counter[str] = Counter()

    def acquire(self, address: str) -> bool:
        """Count one more connection from ``address``; False (and nothing counted) if full."""
        if self._open[address] >= self.limit:
            return False
        self._open[address] += 1
        return True

    def release(self, address: str) -> None:
        self._open[address] -= 1
        if self._open[address] <= 0:
            # Forget idle addresses, so that the counter does not grow with every client seen.
            del self._open[address]

    def open_connections(self, address: str) -> int:
        return self._open[address]
