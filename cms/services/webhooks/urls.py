"""Which webhook URLs the CMS will call: http(s) only, and only public addresses (SSRF).

A webhook makes the server send requests wherever an admin (or whoever steals an admin's
token) says. Unchecked, that reaches what only the server can: the cloud metadata service at
169.254.169.254, databases and admin panels on the private network, services on loopback.
So a URL must be http or https, and every address its host resolves to must be public: no
private (10/8, 172.16/12, 192.168/16, fc00::/7), loopback, link-local, multicast, reserved,
shared (100.64/10) or unspecified address. IPv6 forms that carry an IPv4 address are judged by
that address: IPv4-mapped (::ffff:a.b.c.d), IPv4-compatible (::a.b.c.d), NAT64 (64:ff9b::/96)
and 6to4 (2002::/16); local-use NAT64 (64:ff9b:1::/48) and Teredo (2001::/32) are refused.

The host is resolved when the webhook is saved *and* before every attempt, and the attempt
connects to an address that was just checked (``Target.pinned_url``), never resolving the name
again: a DNS answer that changes between the check and the connection (DNS rebinding) cannot
slip a private address in. ``CMS_WEBHOOKS_ALLOW_PRIVATE=true`` turns the address checks off,
for development and tests with local receivers.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx

from cms.errors import UnsafeURL

__all__ = [
    "MAX_URL_LENGTH",
    "Resolver",
    "Target",
    "check_url",
    "is_public_address",
    "resolve_target",
    "system_resolver",
]

MAX_URL_LENGTH = 2048

Resolver = Callable[[str, int], Awaitable[list[str]]]
"""Resolves a host name and port to IP address strings (injectable, for tests)."""

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True)
class Target:
    """Where one attempt goes: the URL as given and the checked address to connect to."""

    url: httpx.URL
    # None when address checks are off: the client resolves the name itself.
    address: str | None = None

    @property
    def pinned_url(self) -> httpx.URL:
        """The URL with its host replaced by the checked address (the URL itself if none)."""
        return self.url if self.address is None else self.url.copy_with(host=self.address)

    @property
    def host_header(self) -> str:
        return self.url.netloc.decode("ascii")


async def system_resolver(host: str, port: int) -> list[str]:
    """The addresses the operating system's resolver gives for ``host``."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def check_url(raw: str) -> httpx.URL:
    """``raw`` parsed, if it is an absolute http(s) URL with a host; UnsafeURL otherwise."""
    if len(raw) > MAX_URL_LENGTH:
        raise UnsafeURL(f"The URL is longer than {MAX_URL_LENGTH} characters.")
    if any(character.isspace() or ord(character) < 32 for character in raw):
        raise UnsafeURL("The URL contains whitespace or control characters.")
    try:
        url = httpx.URL(raw)
    except (httpx.InvalidURL, TypeError) as exc:
        raise UnsafeURL(f"{raw!r} is not a valid URL.") from exc
    if url.scheme not in ("http", "https"):
        raise UnsafeURL(f"Webhook URLs must be http or https, not {url.scheme or 'relative'!r}.")
    if not url.host:
        raise UnsafeURL("The URL has no host.")
    return url


# IPv6 prefixes whose last 32 bits are an IPv4 address that the packets end up at: NAT64's
# well-known prefix (RFC 6052), and the deprecated IPv4-compatible form (RFC 4291).
_IPV4_IN_LOW_BITS = (
    ipaddress.IPv6Network("64:ff9b::/96"),
    ipaddress.IPv6Network("::/96"),
)
# Refused whatever they carry: local-use NAT64 (RFC 8215) translates into a local network by
# definition, and Teredo (RFC 4380) tunnels through a relay to a NAT-ed IPv4 client.
_NEVER_PUBLIC = (
    ipaddress.IPv6Network("64:ff9b:1::/48"),
    ipaddress.IPv6Network("2001::/32"),
)


def is_public_address(address: IPAddress) -> bool:
    """Whether ``address``, or the IPv4 address an IPv6 one carries, is public unicast."""
    if isinstance(address, ipaddress.IPv6Address):
        if any(address in network for network in _NEVER_PUBLIC):
            return False
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            address = embedded
    return address.is_global and not address.is_multicast


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address that ``address`` leads to, if it is one of IPv6's IPv4 forms."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:  # 2002::/16: the 6to4 site's IPv4 address in bits 16-47
        return address.sixtofour
    if any(address in network for network in _IPV4_IN_LOW_BITS):
        return ipaddress.IPv4Address(int(address) & 0xFFFF_FFFF)
    return None


async def resolve_target(
    raw: str, *, allow_private: bool, resolver: Resolver = system_resolver
) -> Target:
    """Check ``raw`` and the addresses it reaches now; UnsafeURL if any is not public."""
    url = check_url(raw)
    if allow_private:
        return Target(url=url)
    host = url.host
    port = url.port or (443 if url.scheme == "https" else 80)
    literal = _ip_literal(host)
    if literal is not None:
        addresses = [literal]
    else:
        try:
            found = await resolver(host, port)
        except (OSError, UnicodeError) as exc:
            raise UnsafeURL(f"The host {host!r} does not resolve.") from exc
        addresses = [parsed for parsed in map(_ip_literal, found) if parsed is not None]
        if not addresses:
            raise UnsafeURL(f"The host {host!r} does not resolve.")
    for address in addresses:
        if not is_public_address(address):
            raise UnsafeURL(
                f"The host {host!r} reaches {address}, which is not a public address; "
                "webhooks may only call public addresses."
            )
    return Target(url=url, address=str(addresses[0]))


def _ip_literal(value: str) -> IPAddress | None:
    try:
        # A zone index (fe80::1%eth0) is link-local anyway; drop it so that the check sees it.
        return ipaddress.ip_address(value.split("%", 1)[0])
    except ValueError:
        return None
