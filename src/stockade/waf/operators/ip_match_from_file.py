"""The ``@ipMatchFromFile`` operator (also ``@ipMatchF``)."""

from __future__ import annotations

from pathlib import Path

from stockade.waf.operators._registry import Operator, register
from stockade.waf.operators.ip_match import IpMatch, parse_networks
from stockade.waf.operators.pm_from_file import read_list_file


@register("ipMatchFromFile", "ipMatchF")
def build_ip_match_from_file(argument: str, base_dir: Path | None) -> Operator:
    """Match when the value is an address inside one of the networks listed in a file.

    One address or CIDR block per line; blank lines and ``#`` comment lines
    are skipped.

    Argument: one or more file paths, relative to the rule file's directory.
    Example: ``@ipMatchFromFile blocked.txt`` matches ``192.0.2.7`` when the
    file lists ``192.0.2.0/24``.
    """
    lines = read_list_file("ipMatchFromFile", argument, base_dir)
    items = [line.strip() for line in lines]
    return IpMatch("ipMatchFromFile", parse_networks("ipMatchFromFile", argument, items))
