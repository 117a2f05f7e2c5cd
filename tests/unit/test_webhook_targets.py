"""Where webhooks may go: public http(s) addresses only, unless settings allow private ones."""

from __future__ import annotations

import ipaddress

import pytest

from domain.webhook_targets import TargetRefused, refusal, resolve_target

REFUSED = [
    "127.0.0.1",
    "10.0.0.1",
    "172.16.5.4",
    "192.168.1.1",
    "169.254.169.254",  # cloud metadata
    "100.64.0.1",  # carrier-grade NAT
    "0.0.0.0",
    "224.0.0.1",
    "240.0.0.1",
    "::1",
    "fe80::1",
    "fc00::1",
    "ff02::1",
    "::ffff:127.0.0.1",  # IPv4-mapped loopback
]


@pytest.mark.parametrize("address", REFUSED)
def test_non_public_addresses_are_refused(address: str) -> None:
    assert refusal(ipaddress.ip_address(address)) is not None


@pytest.mark.parametrize("address", ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"])
def test_public_addresses_are_allowed(address: str) -> None:
    assert refusal(ipaddress.ip_address(address)) is None


@pytest.mark.parametrize(
    "url",
    [
        "ftp://93.184.216.34/hook",
        "file:///etc/passwd",
        "https://user:pass@93.184.216.34/hook",
        "https:///no-host",
        "https://93.184.216.34/hook#fragment",
        "https://93.184.216.34:99999/",
        "https://93.184.216.34/" + "x" * 2_000,
    ],
)
async def test_malformed_urls_are_refused(url: str) -> None:
    with pytest.raises(TargetRefused) as refused:
        await resolve_target(url, allow_private=True)
    assert refused.value.malformed


async def test_a_name_resolving_to_loopback_is_refused_unless_allowed() -> None:
    with pytest.raises(TargetRefused) as refused:
        await resolve_target("http://localhost:8080/hook", allow_private=False)
    assert not refused.value.malformed
    allowed = await resolve_target("http://localhost:8080/hook?x=1", allow_private=True)
    assert allowed.address.is_loopback
    assert allowed.host_header == "localhost:8080"
    assert allowed.connect_url.endswith(":8080/hook?x=1")


async def test_the_delivery_connects_to_the_address_it_checked() -> None:
    target = await resolve_target("https://93.184.216.34/in", allow_private=False)
    assert target.connect_url == "https://93.184.216.34:443/in"
    assert target.host_header == "93.184.216.34"
    v6 = await resolve_target("http://[2606:2800:220:1:248:1893:25c8:1946]:8080/", False)
    assert v6.connect_url == "http://[2606:2800:220:1:248:1893:25c8:1946]:8080/"
