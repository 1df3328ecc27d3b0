"""Where a webhook may send: never into our own network (SSRF) unless an operator says so.

A URL is refused when any address its host resolves to is private, loopback, link-local,
multicast, reserved or otherwise not globally routable (IPv4 inside IPv6 included),
unless ``TASKWIRE_WEBHOOK_ALLOW_HOSTS`` names the host or a network holding the address.
The check runs when a webhook is saved and again before every attempt, and the attempt
then connects to the very address that was checked: a DNS answer that changes in between
(DNS rebinding) cannot redirect it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import ipaddress
import socket
from collections.abc import Iterable
from urllib.parse import SplitResult, urlsplit

type Address = ipaddress.IPv4Address | ipaddress.IPv6Address
type Network = ipaddress.IPv4Network | ipaddress.IPv6Network

RESOLVE_TIMEOUT_SECONDS = 5.0
MAX_URL_LENGTH = 2000


class InvalidWebhookUrl(ValueError):
    """Not an http(s) URL a webhook can use."""


class DestinationRefused(Exception):
    """The URL's host is (or resolves to) a destination we do not send to."""


class UnresolvableHost(Exception):
    """The URL's host has no address right now."""


@dataclasses.dataclass(frozen=True, slots=True)
class Target:
    """A checked destination: connect to ``address``, speak to ``host``."""

    url: SplitResult
    host: str
    port: int
    address: Address

    @property
    def pinned_url(self) -> str:
        """The URL with the checked address in place of the host name."""
        literal = f"[{self.address}]" if self.address.version == 6 else str(self.address)
        return self.url._replace(netloc=f"{literal}:{self.port}", fragment="").geturl()

    @property
    def host_header(self) -> str:
        default = {"http": 80, "https": 443}[self.url.scheme]
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == default else f"{host}:{self.port}"


def parse_url(url: str) -> SplitResult:
    """Syntax only: http or https, a host, no credentials, a valid port."""
    if len(url) > MAX_URL_LENGTH:
        raise InvalidWebhookUrl(f"The URL is longer than {MAX_URL_LENGTH} characters.")
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. "http://[::1/": an unclosed IPv6 literal
        raise InvalidWebhookUrl("The URL is not valid.") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidWebhookUrl("The URL must be http:// or https:// with a host.")
    try:
        # What the resolver will do with the name: a label over 63 characters, an empty one
        # or a NUL cannot be looked up at all.
        parts.hostname.encode("idna")
        if "\x00" in parts.hostname:
            raise ValueError("NUL in host")
        if "[" in parts.netloc:  # brackets hold an IPv6 address, nothing else
            ipaddress.IPv6Address(parts.hostname)
    except (UnicodeError, ValueError):
        raise InvalidWebhookUrl("The URL's host is not a valid name.") from None
    if parts.username is not None or parts.password is not None:
        raise InvalidWebhookUrl("The URL must not carry credentials; the signature authenticates us.")
    try:
        _ = parts.port  # parsed on access: raises for one out of range
    except ValueError:
        raise InvalidWebhookUrl("The URL's port is not valid.") from None
    return parts


def is_public(address: Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour or (address.teredo[1] if address.teredo else None)
        if embedded is not None and not is_public(embedded):
            return False
    return address.is_global and not (address.is_multicast or address.is_reserved or address.is_link_local)


class DestinationGuard:
    def __init__(self, allow: Iterable[str] = ()) -> None:
        self._hosts: set[str] = set()
        self._networks: list[Network] = []
        for entry in allow:
            try:
                self._networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                self._hosts.add(entry.lower().rstrip("."))

    def _allowed(self, host: str, address: Address) -> bool:
        if host in self._hosts or any(address in network for network in self._networks):
            return True
        return is_public(address)

    async def resolve(self, url: str) -> Target:
        """The checked target of ``url``; InvalidWebhookUrl, UnresolvableHost or DestinationRefused."""
        parts = parse_url(url)
        host = (parts.hostname or "").lower().rstrip(".")
        port = parts.port or (443 if parts.scheme == "https" else 80)
        addresses = await _addresses(host, port)
        for address in addresses:
            if not self._allowed(host, address):
                raise DestinationRefused(f"{host} resolves to {address}, which is not a public address")
        return Target(parts, host, port, addresses[0])


async def _addresses(host: str, port: int) -> list[Address]:
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        async with asyncio.timeout(RESOLVE_TIMEOUT_SECONDS):
            infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, TimeoutError) as error:
        raise UnresolvableHost(f"{host} cannot be resolved: {error}") from None
    # The scope of a link-local IPv6 answer ("fe80::1%eth0") is not part of the address.
    addresses = list(dict.fromkeys(ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos))
    if not addresses:
        raise UnresolvableHost(f"{host} has no address")
    return addresses
