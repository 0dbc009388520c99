"""The SSRF guard of std.http: which network targets actions may reach.

By default an HTTP action may only reach global (public) addresses: a
workflow author must not be able to make the executor call loopback,
private, link-local (cloud metadata at 169.254.169.254), multicast or
otherwise reserved addresses. Every address a host name resolves to is
checked, and the connection is made to exactly the checked addresses (the
check lives in the resolver the HTTP client connects through, so a DNS
answer cannot change between check and use). IP literals, which the HTTP
client does not resolve, are checked before the request and on every
redirect.

Operators allow exceptions with LEVANTE_HTTP_ALLOWED_HOSTS: a comma-separated
list of host names (exact, or `*.example.com` for subdomains) and CIDRs
(`10.1.0.0/16`, `127.0.0.1`).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import ThreadedResolver

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

ALLOWED_HOSTS_VARIABLE = "LEVANTE_HTTP_ALLOWED_HOSTS"


class BlockedTargetError(Exception):
    """The target host or address is not allowed by the network policy."""


def parse_address(text: str) -> IPAddress | None:
    """The IP address `text` denotes (brackets and an IPv6 zone allowed), or None for a name."""
    candidate = text.strip("[]").split("%", 1)[0]
    try:
        return ipaddress.ip_address(candidate)
    except ValueError:
        return None


def is_internal(address: IPAddress) -> bool:
    """Whether `address` is anything but a public unicast address.

    IPv4-mapped and 6to4/Teredo-embedded IPv4 addresses are judged by the
    IPv4 address they carry.
    """
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is not None:
            return is_internal(embedded)
        if address.teredo is not None:
            return any(is_internal(a) for a in address.teredo)
    return (
        not address.is_global
        or address.is_multicast
        or address.is_loopback
        or address.is_link_local
        or address.is_private
        or address.is_unspecified
        or address.is_reserved
    )


@dataclass(frozen=True, slots=True)
class NetworkPolicy:
    """Which internal targets are allowed, by host name or by network."""

    allowed_hosts: frozenset[str] = frozenset()
    allowed_networks: tuple[IPNetwork, ...] = ()

    @classmethod
    def parse(cls, text: str | None) -> NetworkPolicy:
        """Parses LEVANTE_HTTP_ALLOWED_HOSTS (comma-separated host names and CIDRs)."""
        hosts: set[str] = set()
        networks: list[IPNetwork] = []
        for raw in (text or "").split(","):
            item = raw.strip()
            if not item:
                continue
            try:
                networks.append(ipaddress.ip_network(item.strip("[]"), strict=False))
            except ValueError:
                hosts.add(item.lower().rstrip("."))
        return cls(frozenset(hosts), tuple(networks))

    def host_allowed(self, host: str) -> bool:
        """Whether host name `host` is allowed whatever it resolves to."""
        name = host.lower().rstrip(".")
        if name in self.allowed_hosts:
            return True
        return any(
            pattern.startswith("*.") and name.endswith(pattern[1:])
            for pattern in self.allowed_hosts
        )

    def address_allowed(self, address: IPAddress) -> bool:
        """Whether a connection to `address` is allowed."""
        if any(address in network for network in self.allowed_networks):
            return True
        return not is_internal(address)

    def check_addresses(self, host: str, addresses: Iterable[str]) -> None:
        """Raises BlockedTargetError unless `host` or every one of `addresses` is allowed."""
        if self.host_allowed(host):
            return
        for text in addresses:
            address = parse_address(text)
            if address is None or not self.address_allowed(address):
                raise BlockedTargetError(
                    f"refusing to connect to {host} ({text}): loopback, private, link-local "
                    f"and other non-public addresses are blocked unless listed in "
                    f"{ALLOWED_HOSTS_VARIABLE}"
                )

    def check_url_host(self, host: str | None) -> None:
        """Checks a URL's host when it is an IP literal (names are checked when resolved)."""
        if not host:
            raise BlockedTargetError("the URL has no host")
        address = parse_address(host)
        if address is not None:
            self.check_addresses(host, [str(address)])


class GuardedResolver(AbstractResolver):
    """An aiohttp resolver that refuses names resolving to blocked addresses."""

    def __init__(self, policy: NetworkPolicy, inner: AbstractResolver | None = None) -> None:
        self._policy = policy
        self._inner = inner or ThreadedResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        """Resolves `host` and checks every address before anyone connects to one."""
        results = await self._inner.resolve(host, port, family)
        self._policy.check_addresses(host, [r["host"] for r in results])
        return results

    async def close(self) -> None:
        """Closes the inner resolver."""
        await self._inner.close()


def describe(error: BaseException) -> str:
    """The BlockedTargetError inside `error` (aiohttp may wrap it), as text; else ''."""
    seen: set[int] = set()
    current: Any = error
    while current is not None and id(current) not in seen:
        if isinstance(current, BlockedTargetError):
            return str(current)
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return ""
