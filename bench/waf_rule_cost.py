"""Measure what single CRS rules cost the WAF engine, by running the CRS without each one.

Usage: .venv/bin/python bench/waf_rule_cost.py RULE_ID [RULE_ID ...] [--requests 500] [--rounds 3]

The Core Rule Set at /usr/share/modsecurity-crs is copied once as it is
and once per rule id without that rule (a chained rule goes with all its
links). Each copy is loaded in its own process from this checkout's src/,
compiled modules included when scripts/bootstrap built them, and runs
bench/waf_commits.py's in-process measurement: paranoia level 1, all five
phases, a repeated plain GET and a varied GET. Rounds alternate between
the copies, and the table shows median CPU microseconds per request and
the difference to the whole rule set. Removing a rule also changes what
later rules see (a TX variable it would have set, for one), so a difference
is an estimate of the rule's cost, not an exact figure.
"""

from __future__ import annotations

import argparse
import re
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import ROOT, machine_line
from waf_commits import CRS_DIR, measure

RULE_START = ("SecRule", "SecAction")
ID_PATTERN = re.compile(r"\bid:'?(\d+)")
CHAIN_PATTERN = re.compile(r"[\"',]\s*chain\b|\bchain\s*[,\"']")


def directives(text: str) -> list[str]:
    """Split a rule file into directives, each with its backslash-continued lines."""
    lines = text.split("\n")
    found: list[str] = []
    start = 0
    while start < len(lines):
        end = start
        while lines[end].rstrip().endswith("\\") and end + 1 < len(lines):
            end += 1
        found.append("\n".join(lines[start : end + 1]))
        start = end + 1
    return found


def without_rule(text: str, rule_id: str) -> str:
    """Return ``text`` without rule ``rule_id`` and the links chained to it."""
    kept: list[str] = []
    in_removed_chain = False
    for directive in directives(text):
        if not directive.lstrip().startswith(RULE_START):
            kept.append(directive)
            continue
        found = ID_PATTERN.search(directive)
        removed = in_removed_chain or (found is not None and found.group(1) == rule_id)
        in_removed_chain = removed and CHAIN_PATTERN.search(directive) is not None
        if not removed:
            kept.append(directive)
    return "\n".join(kept)


def copy_without(folder: Path, rule_id: str | None) -> Path:
    """Copy the CRS into ``folder``, leaving out ``rule_id`` when one is given."""
    target = folder / (rule_id or "all")
    shutil.copytree(CRS_DIR, target)
    if rule_id is None:
        return target
    changed = False
    for conf in (target / "rules").glob("*.conf"):
        text = conf.read_text()
        remaining = without_rule(text, rule_id)
        if remaining != text:
            conf.write_text(remaining)
            changed = True
    if not changed:
        sys.exit(f"rule {rule_id} was not found in {CRS_DIR}/rules")
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("rules", nargs="+", help="CRS rule ids to leave out, one at a time.")
    parser.add_argument("--requests", type=int, default=500, help="Timed requests per workload.")
    parser.add_argument("--rounds", type=int, default=3, help="Alternating rounds per copy.")
    args = parser.parse_args()
    if not Path(CRS_DIR, "rules").is_dir():
        sys.exit(f"needs the Core Rule Set at {CRS_DIR}; run scripts/system-packages --bench")
    with tempfile.TemporaryDirectory(prefix="stockade-bench-rule-cost-") as folder:
        copies = {"(all rules)": copy_without(Path(folder), None)}
        for rule_id in args.rules:
            copies[rule_id] = copy_without(Path(folder), rule_id)
        samples: dict[str, list[dict[str, float]]] = {name: [] for name in copies}
        for _ in range(args.rounds):
            for name, crs in copies.items():
                samples[name].append(measure(ROOT / "src", args.requests, str(crs)))
    medians = {
        name: {workload: statistics.median(sample[workload] for sample in rounds)
               for workload in ("same", "varied")}
        for name, rounds in samples.items()
    }
    base = medians["(all rules)"]
    print(f"machine: {machine_line()}; CRS at {CRS_DIR}, paranoia level 1, all five phases")
    print(f"{args.rounds} rounds of {args.requests} requests per workload, CPU time, medians")
    print(f"{'left out':<12} {'same GET us':>12} {'saved':>7} {'varied GET us':>14} {'saved':>7}")
    for name, result in medians.items():
        print(f"{name:<12} {result['same']:>12.0f} {base['same'] - result['same']:>7.0f} "
              f"{result['varied']:>14.0f} {base['varied'] - result['varied']:>7.0f}")


if __name__ == "__main__":
    main()
