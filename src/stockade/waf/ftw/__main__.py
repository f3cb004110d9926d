"""``python -m stockade.waf.ftw --rules DIR --tests DIR``: run go-ftw tests in-process."""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

from stockade.waf.ftw.cases import load_cases
from stockade.waf.ftw.overrides import load_overrides
from stockade.waf.ftw.runner import FAIL, PASS, SKIP, run_cases
from stockade.waf.ftw.setup import find_install, regression_engine
from stockade.waf.seclang import SecLangError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m stockade.waf.ftw", description=__doc__)
    parser.add_argument("--rules", required=True, type=Path,
                        help="CRS directory (or its rules/ directory)")
    parser.add_argument("--tests", required=True, type=Path,
                        help="directory of go-ftw YAML test files, searched recursively")
    parser.add_argument("--overrides", type=Path, help="overrides file with known deviations")
    parser.add_argument("--suite", help="suite name in the overrides file, e.g. crs-4.28.0")
    parser.add_argument("--rule", type=int, help="run only the tests of this rule id")
    parser.add_argument("--verbose", action="store_true", help="print every failure")
    args = parser.parse_args(argv)
    started = time.monotonic()
    try:
        install = find_install(args.rules)
        engine = regression_engine(install)
    except (OSError, SecLangError) as error:
        print(f"error: cannot load the rules from {args.rules}: {error}", file=sys.stderr)
        return 2
    loaded = time.monotonic()
    if not args.tests.is_dir():
        print(f"error: test directory {args.tests} not found", file=sys.stderr)
        return 2
    cases = load_cases(args.tests)
    if args.rule:
        cases = [case for case in cases if case.rule_id == args.rule]
    overrides = {}
    if args.overrides:
        overrides = load_overrides(args.overrides, args.suite or f"crs-{install.version}")
    results = run_cases(engine, cases)
    counts: Counter[str] = Counter()
    for result in results:
        listed = overrides.get(result.case.key)
        if result.outcome == FAIL and listed is not None:
            counts["fail (listed in overrides)"] += 1
            continue
        counts[result.outcome] += 1
        if result.outcome == FAIL and args.verbose:
            print(f"FAIL {result.case.key} {result.case.path.name}: {result.reason}")
    finished = time.monotonic()
    print(f"CRS {install.version}: {len(cases)} tests, {counts[PASS]} pass, "
          f"{counts[FAIL]} fail, {counts['fail (listed in overrides)']} listed, "
          f"{counts[SKIP]} skip (load {loaded - started:.1f}s, run {finished - loaded:.1f}s)")
    return 1 if counts[FAIL] else 0


if __name__ == "__main__":
    sys.exit(main())
