"""The client address behind trusted proxies, from X-Forwarded-For.

X-Forwarded-For lists addresses left to right as proxies appended them, so
only the entries added by proxies we trust are believed. Walking from the
right, each address that belongs to a trusted proxy hands over to the entry
before it; the first address that is not a trusted proxy is the client. A
peer that is not a trusted proxy is the client itself, whatever the field says.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

MAX_FORWARDED_HOPS = 32  # X-Forwarded-For entries examined; real chains have a few


def parse_ip(text: str) -> IPAddress | None:
    """Parse an address, accepting the ``[v6]:port`` and ``v4:port`` forms some proxies write."""
    text = text.strip()
    if text.startswith("["):
        text = text[1:].partition("]")[0]
    elif text.count(":") == 1:
        text = text.partition(":")[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def is_trusted(address: IPAddress, trusted: Sequence[IPNetwork]) -> bool:
    return any(address.version == network.version and address in network for network in trusted)


def resolve_client_address(
    peer: str, forwarded_for: bytes | None, trusted: Sequence[IPNetwork]
) -> str:
    """Return the client address for a connection from ``peer``.

    ``forwarded_for`` is the X-Forwarded-For value (several fields joined
    with commas). An entry that is not an IP address ends the walk at the
    proxy that sent it.
    """
    current = parse_ip(peer)
    if current is None or not trusted or not forwarded_for or not is_trusted(current, trusted):
        return peer
    entries = forwarded_for.decode("latin-1").split(",")[-MAX_FORWARDED_HOPS:]
    for entry in reversed(entries):
        if not is_trusted(current, trusted):
            break
        hop = parse_ip(entry)
        if hop is None:
            break
        current = hop
    return str(current)
