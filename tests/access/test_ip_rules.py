from __future__ import annotations

import ipaddress

from stockade.access.ipset import IpSet
from tests.auth.support import Gate, gateway_config


def test_ipset_merges_and_finds() -> None:
    networks = [
        ipaddress.ip_network(text)
        for text in ("192.0.2.0/25", "192.0.2.128/25", "198.51.100.7/32", "2001:db8::/32")
    ]
    ips = IpSet(networks)
    for address in ("192.0.2.0", "192.0.2.255", "198.51.100.7", "2001:db8:ffff::1"):
        assert ipaddress.ip_address(address) in ips, address
    for address in ("192.0.3.0", "198.51.100.8", "2001:db9::1", "::"):
        assert ipaddress.ip_address(address) not in ips, address


async def test_deny_list_answers_403() -> None:
    gate = Gate(gateway_config({"access": {"ip_deny": ["203.0.113.0/24", "2001:db8::/32"]}}))
    verdict, exchange = await gate.request(peer="203.0.113.50")
    assert verdict.status == 403
    assert verdict.reason == "ip-denied"
    assert exchange.events[0].layer == "access"
    v6, _ = await gate.request(peer="2001:db8::1")
    assert v6.status == 403
    allowed, _ = await gate.request(peer="198.51.100.1")
    assert not allowed.reject


async def test_allow_list_admits_only_members() -> None:
    gate = Gate(
        gateway_config({"access": {"ip_allow": ["10.0.0.0/8"], "ip_deny": ["10.6.6.6/32"]}})
    )
    assert not (await gate.request(peer="10.1.2.3"))[0].reject
    outside, _ = await gate.request(peer="192.0.2.1")
    assert outside.status == 403
    assert outside.reason == "ip-not-allowed"
    denied, _ = await gate.request(peer="10.6.6.6")
    assert denied.reason == "ip-denied"


async def test_forwarded_address_used_behind_trusted_proxy() -> None:
    config = gateway_config(
        {"access": {"ip_deny": ["203.0.113.0/24"]}}, trusted_proxies=["127.0.0.0/8"]
    )
    gate = Gate(config)
    verdict, exchange = await gate.request(
        peer="127.0.0.1", headers=[("X-Forwarded-For", "203.0.113.9")]
    )
    assert verdict.status == 403
    assert exchange.client.address == "203.0.113.9"
    assert exchange.client.peer_address == "127.0.0.1"


async def test_forwarded_address_ignored_from_untrusted_peer() -> None:
    config = gateway_config(
        {"access": {"ip_deny": ["203.0.113.0/24"]}}, trusted_proxies=["10.0.0.0/8"]
    )
    verdict, exchange = await Gate(config).request(
        peer="127.0.0.1", headers=[("X-Forwarded-For", "203.0.113.9")]
    )
    assert not verdict.reject
    assert exchange.client.address == "127.0.0.1"


async def test_route_rules_replace_service_rules() -> None:
    routes = [{"id": "admin", "path": "/admin", "policy": {"access": {"ip_allow": ["10.0.0.0/8"]}}}]
    gate = Gate(gateway_config({"access": {"ip_allow": ["0.0.0.0/0"]}}, routes=routes))
    assert not (await gate.request("/", peer="192.0.2.1"))[0].reject
    assert (await gate.request("/admin", peer="192.0.2.1"))[0].status == 403
