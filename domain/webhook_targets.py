"""Where webhooks may go: http(s) URLs whose host resolves to public addresses only.

Checked when an endpoint is saved and again before every delivery, which then connects to the
very address it checked: a name that resolved to a public address at registration and to an
internal one now (DNS rebinding) is refused, and cannot be swapped between check and connect.
Settings may allow private targets (development, tests).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

MAX_URL_LENGTH = 2_000
RESOLVE_TIMEOUT_SECONDS = 5.0

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class TargetRefused(Exception):
    """The URL is malformed (`invalid_url`) or points where webhooks may not go."""

    def __init__(self, message: str, malformed: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.malformed = malformed


@dataclass(frozen=True, slots=True)
class WebhookTarget:
    """A checked URL and the address to connect to for it."""

    url: str
    scheme: str
    host: str
    port: int
    path: str  # path and query, as given
    address: IpAddress

    @property
    def connect_url(self) -> str:
        """The URL with the checked address in place of the host name."""
        literal = f"[{self.address}]" if self.address.version == 6 else str(self.address)
        return f"{self.scheme}://{literal}:{self.port}{self.path}"

    @property
    def host_header(self) -> str:
        default = 443 if self.scheme == "https" else 80
        name = f"[{self.host}]" if ":" in self.host else self.host
        return name if self.port == default else f"{name}:{self.port}"


def refusal(address: IpAddress) -> str | None:
    """Why webhooks may not go to this address, or None for a public one."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    checks = (
        (address.is_loopback, "loopback"),
        (address.is_unspecified, "unspecified"),
        (address.is_link_local, "link-local"),
        (address.is_multicast, "multicast"),
        (address.is_private, "private"),
        (address.is_reserved, "reserved"),
        (not address.is_global, "not public"),
    )
    return next((reason for refused, reason in checks if refused), None)


@dataclass(frozen=True, slots=True)
class _ParsedUrl:
    scheme: str
    host: str
    port: int
    path: str


def parse_webhook_url(url: str) -> _ParsedUrl:
    """The parts of an http(s) URL without credentials; TargetRefused(malformed) otherwise."""
    if len(url) > MAX_URL_LENGTH:
        raise TargetRefused(f"At most {MAX_URL_LENGTH} characters.", malformed=True)
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise TargetRefused(f"Not a URL: {exc}.", malformed=True) from exc
    if parts.scheme not in ("http", "https"):
        raise TargetRefused("Webhook URLs must use https or http.", malformed=True)
    if not parts.hostname:
        raise TargetRefused("The URL has no host.", malformed=True)
    if parts.username is not None or parts.password is not None:
        raise TargetRefused("Put no credentials in the URL: verify the signature.", malformed=True)
    if parts.fragment:
        raise TargetRefused("The URL may not have a #fragment.", malformed=True)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    default_port = 443 if parts.scheme == "https" else 80
    return _ParsedUrl(parts.scheme, parts.hostname, port or default_port, path)


async def host_addresses(host: str, port: int) -> list[IpAddress]:
    """The addresses a host name (or literal) resolves to; `TargetRefused` if it does not."""
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(RESOLVE_TIMEOUT_SECONDS):
            found = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, TimeoutError) as exc:
        raise TargetRefused(f"The host {host} does not resolve.") from exc
    addresses: list[IpAddress] = []
    for *_, sockaddr in found:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%")[0])
        if address not in addresses:
            addresses.append(address)
    return addresses


async def resolve_target(url: str, allow_private: bool) -> WebhookTarget:
    """Check a webhook URL and pick the address to deliver to.

    Every address the host resolves to must be public: a name that mixes public and private
    answers is refused outright.
    """
    parsed = parse_webhook_url(url)
    addresses = await host_addresses(parsed.host, parsed.port)
    if not addresses:
        raise TargetRefused(f"The host {parsed.host} does not resolve.")
    if not allow_private:
        for address in addresses:
            reason = refusal(address)
            if reason is not None:
                raise TargetRefused(
                    f"Webhooks may not go to {parsed.host} ({address} is {reason})."
                )
    return WebhookTarget(
        url=url.strip(),
        scheme=parsed.scheme,
        host=parsed.host,
        port=parsed.port,
        path=parsed.path,
        address=addresses[0],
    )
