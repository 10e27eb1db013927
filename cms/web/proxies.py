"""Who the client is when the app sits behind proxies (``CMS_TRUSTED_PROXIES``).

A request's peer is the client, unless the peer is a trusted proxy: then ``X-Forwarded-For``,
read from the right, lists the hops, and the first address that is not itself a trusted proxy
is the client. Entries further left were written by the client and are never read, so they
cannot be forged to dodge rate limits or login throttling. No proxy is trusted by default, and
then the header is ignored altogether.

:class:`TrustedProxyMiddleware` rewrites the ASGI scope's ``client``, so that everything below
it (rate limits, login throttling, logs) sees one and the same client. ``cms serve`` gives
uvicorn the same list (``forwarded_allow_ips``), which then also honours
``X-Forwarded-Proto``; the middleware makes the rule hold under any server, and in tests.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = ["TrustedProxies", "TrustedProxyMiddleware"]

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class TrustedProxies:
    """The addresses and networks whose ``X-Forwarded-For`` is believed."""

    def __init__(self, proxies: Iterable[str]) -> None:
        self.networks: tuple[Network, ...] = tuple(
            ipaddress.ip_network(proxy, strict=False) for proxy in proxies
        )

    def __bool__(self) -> bool:
        return bool(self.networks)

    def trusts(self, host: str) -> bool:
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return False
        return any(address in network for network in self.networks)

    def client(self, peer: str, forwarded_for: str | None) -> str:
        """The client's address, given the peer's and its ``X-Forwarded-For`` header."""
        if not forwarded_for or not self.trusts(peer):
            return peer
        hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
        for hop in reversed(hops):
            if not self.trusts(hop):
                # Our own proxy wrote this entry, so it is an address; anything else means a
                # misconfigured proxy, and the proxy itself is the safest client to assume.
                return hop if _is_address(hop) else peer
        return hops[0] if hops else peer


class TrustedProxyMiddleware:
    def __init__(self, app: ASGIApp, *, proxies: TrustedProxies) -> None:
        self.app = app
        self.proxies = proxies

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket") and self.proxies and scope.get("client"):
            peer = scope["client"][0]
            forwarded = b",".join(
                value for name, value in scope["headers"] if name == b"x-forwarded-for"
            )
            client = self.proxies.client(peer, forwarded.decode("latin-1") or None)
            if client != peer:
                scope["client"] = (client, 0)  # the client's port is not forwarded
        await self.app(scope, receive, send)


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True
