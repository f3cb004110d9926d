"""Measure the WAF engine compiled with mypyc against the same code interpreted.

Usage: .venv/bin/python bench/waf_mypyc.py [COMMIT] [--requests 500] [--rounds 3]

The commit's src/ (HEAD by default) is exported twice with git archive.
One copy stays pure Python. In the other, mypyc (installed with mypy)
compiles the WAF modules that the commit's stockade/native.py lists (or,
for a commit from before that file, the list in COMPILED) to C extensions,
which Python imports in place of the .py files next to them. Both copies
then run bench/waf_commits.py's in-process measurement: CRS from
/usr/share/modsecurity-crs at paranoia level 1, all five phases, a
repeated plain GET and a varied GET. Rounds alternate between the copies.
So the result is what scripts/bootstrap's compiled build gains over
STOCKADE_NATIVE=0 for the WAF.
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import machine_line
from gateway_commits import export_source
from waf_commits import CRS_DIR, measure

COMPILED = (
    "collections", "engine", "evaluation", "macros", "matches", "outcome", "prefilter",
    "removals", "request", "request_vars", "rules", "ruleset", "screen",
    "settings_directives", "store", "transaction", "tx_setup", "urlencoding", "variables",
)
"""Modules of stockade.waf compiled for a commit without stockade/native.py."""


def compiled_names(source: Path) -> tuple[str, ...]:
    """Return the stockade.waf modules that the exported commit compiles."""
    path = source / "stockade" / "native.py"
    if not path.exists():
        return COMPILED
    spec = importlib.util.spec_from_file_location("exported_native", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return tuple(module.COMPILED["waf"])


def compile_modules(source: Path) -> None:
    """Compile the commit's WAF modules in place under ``source`` with mypyc; exit with its
    output on failure."""
    # mypyc type-checks the modules first, and re2 ships no type stubs.
    (source / "mypy.ini").write_text("[mypy]\nignore_missing_imports = True\n")
    modules = [f"stockade/waf/{name}.py" for name in compiled_names(source)]
    mypyc = str(Path(sys.executable).parent / "mypyc")
    result = subprocess.run([mypyc, *modules], cwd=source, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"mypyc failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("commit", nargs="?", default="HEAD", help="Commit to measure.")
    parser.add_argument("--requests", type=int, default=500, help="Timed requests per workload.")
    parser.add_argument("--rounds", type=int, default=3, help="Alternating rounds per copy.")
    args = parser.parse_args()
    if not Path(CRS_DIR, "rules").is_dir():
        sys.exit(f"needs the Core Rule Set at {CRS_DIR}; run scripts/system-packages --bench")

    with tempfile.TemporaryDirectory(prefix="stockade-bench-waf-mypyc-") as folder:
        sources = {}
        for name in ("interpreted", "compiled"):
            target = Path(folder, name)
            target.mkdir()
            sources[name] = export_source(args.commit, target)
        compile_modules(sources["compiled"])
        samples: dict[str, list[dict[str, float]]] = {name: [] for name in sources}
        for _ in range(args.rounds):
            for name, source in sources.items():
                samples[name].append(measure(source, args.requests))

    print(f"machine: {machine_line()}; CRS at {CRS_DIR}, paranoia level 1, all five phases")
    print(f"commit {args.commit}; {args.rounds} rounds of {args.requests} requests per workload, "
          "CPU time, medians")
    print(f"{'copy':<12} {'same GET us':>12} {'varied GET us':>14}")
    medians = {}
    for name, rounds in samples.items():
        same = statistics.median(sample["same"] for sample in rounds)
        varied = statistics.median(sample["varied"] for sample in rounds)
        medians[name] = (same, varied)
        print(f"{name:<12} {same:>12.0f} {varied:>14.0f}")
    interpreted, compiled = medians["interpreted"], medians["compiled"]
    print(f"ratio compiled/interpreted CPU: same GET {compiled[0] / interpreted[0]:.2f}, "
          f"varied GET {compiled[1] / interpreted[1]:.2f}")


if __name__ == "__main__":
    main()
