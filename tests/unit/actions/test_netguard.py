"""The SSRF guard of std.http: which addresses are internal, and the allow list."""

from __future__ import annotations

import ipaddress
import socket

import pytest
from aiohttp.abc import AbstractResolver, ResolveResult

from levante.actions.std.netguard import (
    BlockedTargetError,
    GuardedResolver,
    NetworkPolicy,
    is_internal,
    parse_address,
)


@pytest.mark.parametrize(
    ("address", "internal"),
    [
        ("127.0.0.1", True),
        ("127.8.9.10", True),
        ("10.0.0.1", True),
        ("172.16.5.4", True),
        ("192.168.1.1", True),
        ("169.254.169.254", True),
        ("100.64.0.1", True),
        ("0.0.0.0", True),
        ("224.0.0.1", True),
        ("255.255.255.255", True),
        ("::1", True),
        ("::", True),
        ("fe80::1", True),
        ("fd00::1", True),
        ("::ffff:127.0.0.1", True),
        ("::ffff:10.1.2.3", True),
        ("2002:7f00:1::", True),
        ("ff02::1", True),
        ("8.8.8.8", False),
        ("93.184.216.34", False),
        ("2606:4700:4700::1111", False),
        ("::ffff:8.8.8.8", False),
    ],
    ids=lambda value: str(value),
)
def test_internal_addresses(address: str, internal: bool) -> None:
    assert is_internal(ipaddress.ip_address(address)) is internal


def test_parse_address_takes_literals_only() -> None:
    assert parse_address("[::1]") == ipaddress.ip_address("::1")
    assert parse_address("fe80::1%eth0") == ipaddress.ip_address("fe80::1")
    assert parse_address("example.com") is None


def test_allow_list_by_name_wildcard_and_network() -> None:
    policy = NetworkPolicy.parse(" api.internal , *.corp.example, 10.1.0.0/16, 127.0.0.1,[::1],")
    assert policy.allowed_hosts == frozenset({"api.internal", "*.corp.example"})
    assert policy.host_allowed("API.internal.") and policy.host_allowed("git.corp.example")
    assert not policy.host_allowed("corp.example") and not policy.host_allowed("x.internal")
    assert policy.address_allowed(ipaddress.ip_address("10.1.200.3"))
    assert policy.address_allowed(ipaddress.ip_address("127.0.0.1"))
    assert policy.address_allowed(ipaddress.ip_address("::1"))
    assert not policy.address_allowed(ipaddress.ip_address("127.0.0.2"))
    assert not policy.address_allowed(ipaddress.ip_address("10.2.0.1"))
    assert policy.address_allowed(ipaddress.ip_address("8.8.8.8"))


def test_every_resolved_address_is_checked() -> None:
    policy = NetworkPolicy()
    policy.check_addresses("public.example", ["8.8.8.8", "1.1.1.1"])
    with pytest.raises(BlockedTargetError, match=r"refusing to connect to mixed\.example \(10"):
        policy.check_addresses("mixed.example", ["8.8.8.8", "10.0.0.7"])
    NetworkPolicy.parse("mixed.example").check_addresses("mixed.example", ["10.0.0.7"])
    with pytest.raises(BlockedTargetError):
        policy.check_url_host("169.254.169.254")
    with pytest.raises(BlockedTargetError):
        policy.check_url_host(None)
    policy.check_url_host("internal.example")  # names are checked when resolved


class StubResolver(AbstractResolver):
    def __init__(self, answers: dict[str, list[str]]) -> None:
        self.answers = answers

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        return [
            ResolveResult(hostname=host, host=a, port=port, family=family, proto=0, flags=0)
            for a in self.answers[host]
        ]

    async def close(self) -> None:
        return None


async def test_the_resolver_refuses_names_that_resolve_inside() -> None:
    stub = StubResolver({"metadata.example": ["169.254.169.254"], "ok.example": ["93.184.216.34"]})
    resolver = GuardedResolver(NetworkPolicy(), stub)
    assert [r["host"] for r in await resolver.resolve("ok.example", 80)] == ["93.184.216.34"]
    with pytest.raises(BlockedTargetError, match="metadata.example"):
        await resolver.resolve("metadata.example", 80)
    await resolver.close()
