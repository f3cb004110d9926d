"""A set of IPv4 and IPv6 networks with O(log n) membership."""

from __future__ import annotations

import bisect
import ipaddress
from collections.abc import Iterable

from stockade.access.client_address import IPAddress, IPNetwork


class IpSet:
    """Networks merged into sorted, disjoint integer ranges per IP version."""

    __slots__ = ("_ends", "_starts")

    def __init__(self, networks: Iterable[IPNetwork]) -> None:
        ranges: dict[int, list[tuple[int, int]]] = {4: [], 6: []}
        for network in networks:
            start = int(network.network_address)
            ranges[network.version].append((start, start + network.num_addresses - 1))
        self._starts: dict[int, list[int]] = {}
        self._ends: dict[int, list[int]] = {}
        for version, items in ranges.items():
            merged: list[tuple[int, int]] = []
            for start, end in sorted(items):
                if merged and start <= merged[-1][1] + 1:
                    merged[-1] = (merged[-1][0], max(merged[-1][1], end))
                else:
                    merged.append((start, end))
            self._starts[version] = [start for start, _ in merged]
            self._ends[version] = [end for _, end in merged]

    def __bool__(self) -> bool:
        return any(self._starts.values())

    def __contains__(self, address: object) -> bool:
        if not isinstance(address, ipaddress.IPv4Address | ipaddress.IPv6Address):
            return False
        return self.contains(address)

    def contains(self, address: IPAddress) -> bool:
        value = int(address)
        starts = self._starts[address.version]
        index = bisect.bisect_right(starts, value) - 1
        return index >= 0 and value <= self._ends[address.version][index]
