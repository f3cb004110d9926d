"""Time CRS @rx patterns on hyperscan against RE2.

Reads the patterns from the Core Rule Set at run time, compiles each with
both engines as the ``@rx`` operator does, and times a search over benign
and attack values. Prints microseconds per search and the RE2/hyperscan
ratio (above 1 means hyperscan is faster).

Usage: python bench/waf_rx.py [--rules DIR] [--repeat N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import re2

from stockade.waf.operators._pattern_syntax import for_re2
from stockade.waf.operators._regex import RE2_OPTIONS, CompiledRegex
from stockade.waf.operators._text import to_bytes

DEFAULT_RULES = Path(__file__).resolve().parents[1] / ".." / "shared" / "crs" / "v4.28.0" / "rules"
RULE_IDS = ("942190", "942260", "941160", "930100", "932230", "933160", "921110")

VALUES = {
    "benign-short": b"john.smith@example.test",
    "benign-json": b'{"order": 1234, "items": [{"sku": "A-77", "qty": 2}], "note": "leave at door"}'
    * 8,
    "sqli": b"1 UNION ALL SELECT username, password FROM users-- -",
    "xss": b'"><svg/onload=alert(document.domain)>',
    "rce": b";cat$IFS/etc/passwd|base64",
}


def _rule_pattern(rules: Path, rule_id: str) -> str | None:
    """Return the @rx argument of the rule with ``rule_id``, or None if it has none."""
    for path in sorted(rules.glob("*.conf")):
        text = path.read_text(encoding="utf-8").replace("\\\n", "")
        marker = text.find(f"id:{rule_id},")
        if marker < 0:
            continue
        start = text.rfind("SecRule ", 0, marker)
        operator_start = text.find('"@rx ', start, marker)
        if operator_start < 0:
            return None
        index = operator_start + len('"@rx ')
        chars: list[str] = []
        while index < len(text) and text[index] != '"':
            if text[index] == "\\" and text[index + 1] == '"':
                chars.append('"')
                index += 2
                continue
            chars.append(text[index])
            index += 1
        return "".join(chars)
    return None


def _time_per_call(function: Callable[[bytes], object], value: bytes, repeat: int) -> float:
    """Return the median microseconds of one call over five rounds of ``repeat`` calls."""
    rounds = []
    for _ in range(5):
        started = time.perf_counter()
        for _ in range(repeat):
            function(value)
        rounds.append((time.perf_counter() - started) / repeat * 1e6)
    return statistics.median(rounds)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rules", type=Path, default=DEFAULT_RULES, help="CRS rules directory")
    parser.add_argument("--repeat", type=int, default=2000, help="searches per timing round")
    arguments = parser.parse_args()
    if not arguments.rules.is_dir():
        print(f"CRS rules not found at {arguments.rules}; pass --rules", file=sys.stderr)
        return 2

    print(f"{'rule':>7} {'value':<13} {'hyperscan us':>12} {'re2 us':>8} {'ratio':>6}")
    ratios = []
    for rule_id in RULE_IDS:
        pattern = _rule_pattern(arguments.rules, rule_id)
        if pattern is None:
            print(f"{rule_id:>7} has no @rx pattern in these rules")
            continue
        compiled = CompiledRegex(pattern)
        re2_only = re2.compile(to_bytes(for_re2(pattern)), RE2_OPTIONS)
        for label, value in VALUES.items():
            re2_time = _time_per_call(re2_only.search, value, arguments.repeat)
            if "hyperscan" not in compiled.engines:
                print(f"{rule_id:>7} {label:<13} {'(too large)':>12} {re2_time:8.2f}")
                continue
            hyperscan_time = _time_per_call(compiled.search, value, arguments.repeat)
            ratio = re2_time / hyperscan_time
            ratios.append(ratio)
            print(f"{rule_id:>7} {label:<13} {hyperscan_time:12.2f} {re2_time:8.2f} {ratio:6.2f}")
    if ratios:
        print(f"median RE2/hyperscan ratio: {statistics.median(ratios):.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
