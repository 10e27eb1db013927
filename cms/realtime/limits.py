"""How many WebSocket connections each client may hold open at once.

A client is :func:`cms.web.client_address.client_key` of its address: IPv6 clients are counted
per /64, since one host can take a new address of its /64 for every connection. Counted per
worker process: with several workers a client may hold ``limit`` connections on each. Behind a
reverse proxy the address is the one :mod:`cms.web.proxies` resolved (``CMS_TRUSTED_PROXIES``),
or every client shares the proxy's address and its allowance.
"""

from __future__ import annotations

from collections import Counter

__all__ = ["ConnectionLimiter"]


class ConnectionLimiter:
    """Counts open connections per client key and refuses those beyond ``limit``."""

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
