"""The ``@ipMatch`` operator."""

from __future__ import annotations

from pathlib import Path

from stockade.waf.operators._ip_ranges import IpRanges, parse_address, parse_network
from stockade.waf.operators._registry import Operator, OperatorContext, OperatorError, register

MAX_REMEMBERED_VALUES = 4096
"""Values whose result each @ipMatch keeps, at most."""


class IpMatch:
    """Match when the value is an IPv4 or IPv6 address inside one of the listed networks.

    A value that is not an address does not match.

    Argument: addresses and CIDR blocks separated by commas (or spaces).
    Example: ``@ipMatch 127.0.0.1,10.0.0.0/8,::1`` matches ``10.1.2.3``.
    """

    def __init__(self, name: str, ranges: IpRanges) -> None:
        self.name = name
        self.ranges = ranges
        # REMOTE_ADDR repeats from request to request, and parsing an address
        # costs more than the lookup, so each value's result is kept.
        self._results: dict[bytes, bool] = {}

    def evaluate(self, value: bytes, ctx: OperatorContext) -> bool:
        result = self._results.get(value)
        if result is None:
            address = parse_address(value)
            result = address is not None and self.ranges.contains(address)
            if len(self._results) >= MAX_REMEMBERED_VALUES:
                self._results.clear()  # values come from requests, so the memory is bounded
            self._results[value] = result
        return result


def parse_networks(operator: str, argument: str, items: list[str]) -> IpRanges:
    """Parse ``items`` as addresses or CIDR blocks, naming the first invalid one."""
    networks = []
    for item in items:
        try:
            networks.append(parse_network(item))
        except ValueError:
            raise OperatorError(
                operator, argument, f"{item!r} is not an IPv4 or IPv6 address or CIDR block"
            ) from None
    if not networks:
        raise OperatorError(operator, argument, "no addresses given")
    return IpRanges(networks)


@register("ipMatch")
def build_ip_match(argument: str, base_dir: Path | None) -> Operator:
    items = argument.replace(",", " ").split()
    return IpMatch("ipMatch", parse_networks("ipMatch", argument, items))
