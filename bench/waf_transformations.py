"""Time the SecLang transformations the CRS uses most on typical values.

Prints microseconds per call for a benign JSON value (where most decoders
take their fast path) and for an encoded attack value.

Usage: python bench/waf_transformations.py [--repeat N]
"""

from __future__ import annotations

import argparse
import statistics
import time

from stockade.waf.transformations import get_transformation

NAMES = (
    "urlDecodeUni",
    "lowercase",
    "jsDecode",
    "htmlEntityDecode",
    "utf8toUnicode",
    "removeNulls",
    "cssDecode",
    "cmdLine",
    "removeWhitespace",
    "replaceComments",
    "normalizePath",
    "escapeSeqDecode",
    "compressWhitespace",
)

VALUES = {
    "benign-json": b'{"order": 1234, "items": [{"sku": "A-77", "qty": 2}], "note": "at door"}',
    "attack": b"%3Cscr%u0069pt%3E&#x61;lert(1)\\x3c/**/UNION%20SELECT caf\xc3\xa9 ../../etc",
}


def _time_per_call(name: str, value: bytes, repeat: int) -> float:
    """Return the median microseconds of one call over five rounds of ``repeat`` calls."""
    function = get_transformation(name)
    rounds = []
    for _ in range(5):
        started = time.perf_counter()
        for _ in range(repeat):
            function(value)
        rounds.append((time.perf_counter() - started) / repeat * 1e6)
    return statistics.median(rounds)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5000, help="calls per timing round")
    arguments = parser.parse_args()
    print(f"{'transformation':<20}" + "".join(f"{label:>14}" for label in VALUES))
    for name in NAMES:
        timings = [_time_per_call(name, value, arguments.repeat) for value in VALUES.values()]
        print(f"{name:<20}" + "".join(f"{timing:12.2f}us" for timing in timings))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
