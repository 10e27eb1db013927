"""Who a client is, for counting: its address, or its /64 network for IPv6.

One IPv6 host, or one subscriber's line, usually holds a whole /64 and can pick a new address
in it for every connection; counting per address would give it 2^64 allowances. So every
per-client limit (request and cost budgets, login throttles, WebSocket connection caps) keys
IPv6 clients by their /64, and IPv4-mapped IPv6 addresses by the IPv4 address they carry.
"""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from starlette.types import Scope

__all__ = ["client_key", "connection_key"]

IPV6_CLIENT_PREFIX = 64
UNKNOWN = "unknown"


def client_key(host: str | None) -> str:
    """The key counting ``host``: itself for IPv4, its /64 network for IPv6."""
    if not host:
        return UNKNOWN
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host  # a Unix socket path or a test client's name
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/{IPV6_CLIENT_PREFIX}", strict=False))
    return str(address)


def connection_key(scope: Scope) -> str:
    """The key of an ASGI connection's client (as :mod:`cms.web.proxies` resolved it)."""
    client = scope.get("client")
    return client_key(client[0] if client else None)
