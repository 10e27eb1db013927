"""Which webhook URLs the CMS calls: http(s) on public addresses only (SSRF)."""

from __future__ import annotations

import pytest

from cms.webhooks.urls import Resolver, UnsafeURL, resolve_target


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
    ],
)
async def test_a_url_reaching_a_non_public_address_is_refused(url: str) -> None:
    with pytest.raises(UnsafeURL, match="not a public address"):
        await resolve_target(url, allow_private=False)


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
