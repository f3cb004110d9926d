from __future__ import annotations

import ipaddress

from stockade.access.client_address import resolve_client_address

TRUSTED = [ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("fd00::/8")]


def test_untrusted_peer_is_client() -> None:
    assert resolve_client_address("198.51.100.7", b"203.0.113.9", TRUSTED) == "198.51.100.7"


def test_trusted_peer_hands_over_to_forwarded() -> None:
    assert resolve_client_address("10.1.1.1", b"203.0.113.9", TRUSTED) == "203.0.113.9"


def test_spoofed_left_entries_ignored() -> None:
    # The client wrote 1.2.3.4 itself; our proxy appended the real address.
    assert resolve_client_address("10.1.1.1", b"1.2.3.4, 203.0.113.9", TRUSTED) == "203.0.113.9"


def test_chain_of_trusted_proxies_walked() -> None:
    value = b"203.0.113.9, 10.2.2.2, 10.3.3.3"
    assert resolve_client_address("10.1.1.1", value, TRUSTED) == "203.0.113.9"


def test_all_trusted_gives_leftmost() -> None:
    assert resolve_client_address("10.1.1.1", b"10.9.9.9, 10.3.3.3", TRUSTED) == "10.9.9.9"


def test_garbage_entry_stops_at_proxy() -> None:
    assert resolve_client_address("10.1.1.1", b"203.0.113.9, not-an-ip", TRUSTED) == "10.1.1.1"


def test_ipv6_and_ports() -> None:
    assert resolve_client_address("fd00::1", b"[2001:db8::5]:443", TRUSTED) == "2001:db8::5"
    assert resolve_client_address("10.1.1.1", b"203.0.113.9:5555", TRUSTED) == "203.0.113.9"


def test_no_trusted_proxies_means_peer() -> None:
    assert resolve_client_address("10.1.1.1", b"203.0.113.9", []) == "10.1.1.1"


def test_ipv4_mapped_peer_matches_ipv4_network() -> None:
    assert resolve_client_address("::ffff:10.1.1.1", b"203.0.113.9", TRUSTED) == "203.0.113.9"
