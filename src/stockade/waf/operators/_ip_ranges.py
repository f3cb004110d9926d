"""Sets of IPv4 and IPv6 networks with a binary-search membership test."""

from __future__ import annotations

import bisect
import ipaddress


class IpRanges:
    """Merged address intervals per IP version, searched with bisect."""

    __slots__ = ("_ends", "_starts")

    def __init__(self, networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network]) -> None:
        self._starts: dict[int, list[int]] = {4: [], 6: []}
        self._ends: dict[int, list[int]] = {4: [], 6: []}
        for version in (4, 6):
            spans = sorted(
                (int(network.network_address), int(network.broadcast_address))
                for network in networks
                if network.version == version
            )
            for start, end in spans:
                ends = self._ends[version]
                if ends and start <= ends[-1] + 1:
                    ends[-1] = max(ends[-1], end)
                else:
                    self._starts[version].append(start)
                    ends.append(end)

    def contains(self, address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
        """Tell whether ``address`` falls in one of the networks."""
        number = int(address)
        starts = self._starts[address.version]
        slot = bisect.bisect_right(starts, number) - 1
        return slot >= 0 and number <= self._ends[address.version][slot]


def parse_network(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    """Parse an address or CIDR block; host bits in a CIDR block are ignored.

    Raises ValueError for text that is neither.
    """
    return ipaddress.ip_network(text, strict=False)


def parse_address(value: bytes) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """Parse the value as an IPv4 or IPv6 address, or return None if it is not one."""
    try:
        return ipaddress.ip_address(value.strip().decode("ascii"))
    except (UnicodeDecodeError, ValueError):
        return None
