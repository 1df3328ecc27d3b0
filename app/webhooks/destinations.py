"""Where a webhook may send: never into our own network (SSRF) unless an operator says so.

A URL is refused when any address its host resolves to lies in one of the networks listed
below (private, loopback, link-local, site-local, unique-local, shared/CGNAT, multicast,
documentation, benchmarking, reserved, tunnels), or is outside IPv6's global unicast range,
or is not global by ``ipaddress`` either, unless ``TASKWIRE_WEBHOOK_ALLOW_HOSTS`` names the
host or a network holding the address. The list is ours rather than ``is_global`` alone:
Python calls the deprecated site-local ``fec0::/10`` global, for one. An IPv4 address inside
an IPv6 one (IPv4-mapped, NAT64) is judged as that IPv4 address.
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


def _networks(*cidrs: str) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(cidr) for cidr in cidrs)


# IANA's special-purpose registries (RFC 6890 and successors), every block not globally
# reachable, plus deprecated ones nobody should be sending to.
REFUSED_IPV4 = _networks(
    "0.0.0.0/8",  # "this network"
    "10.0.0.0/8",
    "172.16.0.0/12",
    "192.168.0.0/16",  # private (RFC 1918)
    "100.64.0.0/10",  # shared address space (carrier-grade NAT)
    "127.0.0.0/8",  # loopback
    "169.254.0.0/16",  # link-local (cloud metadata services live here)
    "192.0.0.0/24",  # IETF protocol assignments
    "192.0.2.0/24",
    "198.51.100.0/24",
    "203.0.113.0/24",  # documentation
    "192.88.99.0/24",  # 6to4 relay anycast (deprecated)
    "198.18.0.0/15",  # benchmarking
    "224.0.0.0/4",  # multicast
    "240.0.0.0/4",  # reserved, and the broadcast address
)
REFUSED_IPV6 = _networks(
    "::/128",
    "::1/128",  # unspecified, loopback
    "::/96",  # IPv4-compatible (deprecated)
    "64:ff9b:1::/48",  # local-use NAT64
    "100::/64",  # discard-only
    "2001::/32",  # Teredo: a tunnel to wherever its embedded (obfuscated) IPv4 points
    "2001:2::/48",  # benchmarking
    "2001:10::/28",
    "2001:20::/28",  # ORCHID, ORCHIDv2
    "2001:db8::/32",
    "3fff::/20",  # documentation
    "2002::/16",  # 6to4: a tunnel to its embedded IPv4 (deprecated)
    "5f00::/16",  # SRv6 segment identifiers
    "fc00::/7",  # unique local
    "fe80::/10",  # link-local
    "fec0::/10",  # site-local (deprecated; Python's is_global says True)
    "ff00::/8",  # multicast
)
GLOBAL_UNICAST_IPV6 = ipaddress.ip_network("2000::/3")
NAT64 = ipaddress.ip_network("64:ff9b::/96")


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address a connection to ``address`` really reaches, if it is one of the forms
    an IPv6 stack uses for that (IPv4-mapped, well-known NAT64 prefix)."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def is_public(address: Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            return is_public(embedded)
        if address not in GLOBAL_UNICAST_IPV6:
            return False
        refused = REFUSED_IPV6
    else:
        refused = REFUSED_IPV4
    # Both must agree: our list, and the standard library's view as a second opinion.
    return not any(address in network for network in refused) and address.is_global


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
