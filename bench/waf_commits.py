"""Compare the WAF engine of Stockade commits in process: CPU time per request.

Usage: .venv/bin/python bench/waf_commits.py COMMIT [COMMIT ...] [--requests 500] [--rounds 3]

Each commit's src/ is exported with git archive and loaded in its own
Python process (PYTHONPATH puts it before the editable install). The
process loads the Core Rule Set from /usr/share/modsecurity-crs at paranoia
level 1 and runs requests through all five phases, without sockets. Two
workloads are timed: one plain API GET repeated, and a GET whose item id,
query values and request id change in every request, so that no result of
an earlier request can be reused. Rounds alternate between the commits,
and the table shows the median CPU microseconds per request.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import ROOT, machine_line
from gateway_commits import export_source

CRS_DIR = "/usr/share/modsecurity-crs"

# Runs inside each commit's process; prints {"same": us, "varied": us}.
MEASURE = """
import json, sys, time
from stockade.config.models import WafPolicy
from stockade.waf.crs import find_crs, load_crs, tenant_engine
from stockade.waf.request import WafRequest, WafResponse

install = find_crs(sys.argv[1])
engine = tenant_engine(load_crs(install), install,
                       WafPolicy.model_validate({"paranoia_level": 1, "api_defaults": False}))
RESPONSE = [(b"Content-Type", b"application/json"), (b"Content-Length", b"20")]


def request(number, varied):
    headers = [(b"Host", b"127.0.0.1:8080"), (b"User-Agent", b"stockade-bench/1.0"),
               (b"Accept", b"*/*")]
    target = b"/api/items/42?page=2"
    if varied:
        headers.append((b"X-Request-Id", b"%032x" % (number * 7919)))
        target = b"/api/items/%d?page=%d&q=name%d" % (number, number % 97, number)
    transaction = engine.transaction(WafRequest(b"GET", target, headers=headers,
                                                unique_id=str(number)))
    transaction.process_request_headers()
    transaction.process_request_body()
    transaction.process_response_headers(WafResponse(200, list(RESPONSE)))
    transaction.process_response_body()
    transaction.process_logging()


count = int(sys.argv[2])
result = {}
for name, varied, offset in (("same", False, 0), ("varied", True, 1_000_000)):
    for number in range(50):
        request(number + offset, varied)
    started = time.process_time()
    for number in range(count):
        request(number + offset + 50, varied)
    result[name] = (time.process_time() - started) / count * 1e6
print(json.dumps(result))
"""


def measure(source: Path, requests: int, crs: str = CRS_DIR) -> dict[str, float]:
    """Run MEASURE on the sources in ``source`` with the CRS in ``crs``; return its result."""
    environment = dict(os.environ, PYTHONPATH=str(source))
    output = subprocess.run(
        [str(ROOT / ".venv/bin/python"), "-c", MEASURE, crs, str(requests)],
        capture_output=True, text=True, check=True, env=environment,
    ).stdout
    return dict(json.loads(output.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("commits", nargs="+", help="Commits (or branches) to compare.")
    parser.add_argument("--requests", type=int, default=500, help="Timed requests per workload.")
    parser.add_argument("--rounds", type=int, default=3, help="Alternating rounds per commit.")
    args = parser.parse_args()
    if not Path(CRS_DIR, "rules").is_dir():
        sys.exit(f"needs the Core Rule Set at {CRS_DIR}; run scripts/system-packages --bench")

    with tempfile.TemporaryDirectory(prefix="stockade-bench-waf-commits-") as folder:
        sources = {}
        for commit in args.commits:
            target = Path(folder, commit.replace("/", "_"))
            target.mkdir()
            sources[commit] = export_source(commit, target)
        samples: dict[str, list[dict[str, float]]] = {commit: [] for commit in args.commits}
        for _ in range(args.rounds):
            for commit, source in sources.items():
                samples[commit].append(measure(source, args.requests))

    print(f"machine: {machine_line()}; CRS at {CRS_DIR}, paranoia level 1, all five phases")
    print(f"{args.rounds} rounds of {args.requests} requests per workload, medians")
    print(f"{'commit':<14} {'same GET us':>12} {'varied GET us':>14}")
    for commit, rounds in samples.items():
        same = statistics.median(sample["same"] for sample in rounds)
        varied = statistics.median(sample["varied"] for sample in rounds)
        print(f"{commit:<14} {same:>12.0f} {varied:>14.0f}")


if __name__ == "__main__":
    main()
