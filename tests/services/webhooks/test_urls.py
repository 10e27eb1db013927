"""Which webhook URLs the CMS calls: http(s) on public addresses only (SSRF)."""

from __future__ import annotations

import pytest

from cms.errors import UnsafeURL
from cms.services.webhooks.urls import Resolver, resolve_target

# IPv6 addresses that carry an internal IPv4 address (or lead to one) in their bits.
EMBEDDED_PRIVATE_URLS = [
    pytest.param("http://[64:ff9b::7f00:1]/hook", id="nat64-loopback"),
    pytest.param("http://[64:ff9b::a9fe:a9fe]/latest/meta-data/", id="nat64-metadata"),
    pytest.param("http://[64:ff9b:1::a00:1]/hook", id="local-use-nat64"),
    pytest.param("http://[2002:7f00:1::]/hook", id="6to4-loopback"),
    pytest.param("http://[2002:c0a8:101::1]/hook", id="6to4-private-192"),
    pytest.param("http://[::127.0.0.1]/hook", id="ipv4-compatible-loopback"),
    pytest.param("http://[::10.0.0.1]/hook", id="ipv4-compatible-private"),
    pytest.param("http://[::ffff:10.0.0.1]/hook", id="ipv4-mapped-private"),
    pytest.param("http://[2001:0:4136:e378:8000:63bf:80ff:fffe]/hook", id="teredo-loopback"),
    pytest.param("http://[2001:0:5db8:d822::1]/hook", id="teredo"),
]


def resolves_to(*addresses: str) -> Resolver:
    async def resolver(host: str, port: int) -> list[str]:
        return list(addresses)

    return resolver


@pytest.mark.parametrize(
    "url",
    [
        pytest.param("http://127.0.0.1/hook", id="loopback"),
        pytest.param("http://127.1.2.3:8080/hook", id="loopback-range"),
        pytest.param("http://10.0.0.5/hook", id="private-10"),
        pytest.param("http://172.16.0.1/hook", id="private-172"),
        pytest.param("http://192.168.1.1/hook", id="private-192"),
        pytest.param("http://169.254.169.254/latest/meta-data/", id="link-local-metadata"),
        pytest.param("http://100.64.0.1/", id="shared-cgnat"),
        pytest.param("http://0.0.0.0/", id="unspecified"),
        pytest.param("http://224.0.0.1/", id="multicast"),
        pytest.param("http://[::1]:8000/hook", id="ipv6-loopback"),
        pytest.param("http://[fe80::1]/hook", id="ipv6-link-local"),
        pytest.param("http://[fd00::1]/hook", id="ipv6-unique-local"),
        pytest.param("http://[::ffff:127.0.0.1]/hook", id="ipv4-mapped-loopback"),
        pytest.param("http://localhost:8000/hook", id="name-resolving-to-loopback"),
        *EMBEDDED_PRIVATE_URLS,
    ],
)
async def test_a_url_reaching_a_non_public_address_is_refused(url: str) -> None:
    with pytest.raises(UnsafeURL, match="not a public address"):
        await resolve_target(url, allow_private=False)


@pytest.mark.parametrize(
    "address",
    [
        pytest.param("64:ff9b::a00:1", id="nat64-of-10.0.0.1"),
        pytest.param("2002:a9fe:a9fe::1", id="6to4-of-metadata"),
        pytest.param("::7f00:1", id="ipv4-compatible-loopback"),
    ],
)
async def test_a_name_resolving_to_an_ipv6_form_of_a_private_ipv4_is_refused(
    address: str,
) -> None:
    with pytest.raises(UnsafeURL, match="not a public address"):
        await resolve_target(
            "https://hooks.example.com/", allow_private=False, resolver=resolves_to(address)
        )


@pytest.mark.parametrize(
    "url",
    [
        # An IPv6-only network reaches IPv4 receivers through NAT64 (DNS64 answers these).
        pytest.param("https://[64:ff9b::5db8:d822]/hook", id="nat64-of-public"),
        pytest.param("https://[2002:5db8:d822::1]/hook", id="6to4-of-public"),
        pytest.param("https://[2606:4700:4700::1111]/hook", id="native-ipv6"),
    ],
)
async def test_ipv6_forms_of_public_addresses_are_accepted(url: str) -> None:
    target = await resolve_target(url, allow_private=False)
    assert target.address is not None


@pytest.mark.parametrize(
    "url",
    [
        pytest.param("ftp://example.com/hook", id="ftp"),
        pytest.param("file:///etc/passwd", id="file"),
        pytest.param("gopher://example.com/", id="gopher"),
        pytest.param("javascript:alert(1)", id="javascript"),
        pytest.param("/relative/path", id="relative"),
        pytest.param("http:///no-host", id="no-host"),
        pytest.param("http://exa mple.com/", id="whitespace"),
        pytest.param("https://example.com/" + "a" * 2100, id="too-long"),
    ],
)
async def test_a_url_that_is_not_http_or_https_is_refused(url: str) -> None:
    with pytest.raises(UnsafeURL):
        await resolve_target(url, allow_private=True)


async def test_a_name_with_any_private_address_is_refused() -> None:
    # A public and a private answer together: the private one could be the one used.
    resolver = resolves_to("93.184.216.34", "10.1.1.1")
    with pytest.raises(UnsafeURL, match=r"10\.1\.1\.1"):
        await resolve_target("https://hooks.example.com/", allow_private=False, resolver=resolver)


async def test_a_public_name_is_pinned_to_the_address_that_was_checked() -> None:
    resolver = resolves_to("93.184.216.34")
    target = await resolve_target(
        "https://hooks.example.com:8443/cms?x=1", allow_private=False, resolver=resolver
    )
    assert str(target.pinned_url) == "https://93.184.216.34:8443/cms?x=1"
    assert target.host_header == "hooks.example.com:8443"


async def test_a_name_that_does_not_resolve_is_refused() -> None:
    async def failing(host: str, port: int) -> list[str]:
        raise OSError("Name or service not known")

    with pytest.raises(UnsafeURL, match="does not resolve"):
        await resolve_target("https://nowhere.invalid/", allow_private=False, resolver=failing)


async def test_private_addresses_are_allowed_when_the_setting_says_so() -> None:
    target = await resolve_target("http://127.0.0.1:9000/hook", allow_private=True)
    assert str(target.pinned_url) == "http://127.0.0.1:9000/hook"
