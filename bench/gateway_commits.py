"""Compare Stockade commits as a plain reverse proxy: CPU time per request and throughput.

Usage: .venv/bin/python bench/gateway_commits.py COMMIT [COMMIT ...]
                                        [--seconds 3] [--rounds 5] [--connections 50]

Each commit's src/ is exported with git archive, compiled into a build of its
own, and run as its own one-worker gateway (PYTHONPATH puts it before the
editable install, STOCKADE_NATIVE_DIR names its build), with the same
config as bench/gateway.py, in front of one nginx upstream. Rounds alternate
between nginx (upstream keep-alive), nginx-plain and every commit. Besides
requests per second, it reads the worker's CPU time from /proc before and
after each run and divides by the requests served. On a machine shared with
other jobs, CPU per request moves much less than throughput does.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import ROOT, WrkResult, free_port, machine_line, nginx, stockade, wait_for_port, wrk
from gateway import proxy_block, stockade_config, upstream_block

from stockade import native


def export_source(commit: str, folder: Path) -> Path:
    """Write ``commit``'s src/ under ``folder`` and return the path to put on PYTHONPATH."""
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", commit, "src"], capture_output=True, check=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    return folder / "src"


def build_native(commit: str, source: Path) -> str:
    """Compile the sources exported to ``source`` into STOCKADE_NATIVE_DIR; return the build kind.

    Each commit needs a build of its own sources: a build of other sources
    is not used, and the gateway would run interpreted. The build runs in
    ``source`` without PYTHONPATH, which older commits pass on to mypy,
    whose type check then fails.
    """
    environment = {name: value for name, value in os.environ.items() if name != "PYTHONPATH"}
    build = subprocess.run(
        [sys.executable, "-m", "stockade.native", "build"],
        cwd=source,
        env=environment,
        capture_output=True,
        text=True,
    )
    manifest = Path(os.environ[native.DIRECTORY_VARIABLE]) / native.MANIFEST
    if build.returncode == 0 and manifest.is_file():
        return "compiled"
    print(f"warning: {commit} has no compiled build, so it runs interpreted", file=sys.stderr)
    return "interpreted"


def worker_cpu_seconds(pid: int) -> tuple[float, float]:
    """Return the user and system CPU seconds a process has used."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / ticks, int(fields[12]) / ticks


def worker_pid(gateway_folder: Path) -> int:
    output = subprocess.run(
        ["pgrep", "-f", f"stockade.gateway.worker --config {gateway_folder}/"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return int(output.split()[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("commits", nargs="+", help="Commits (or branches) to compare.")
    parser.add_argument("--seconds", type=int, default=3, help="Duration of each wrk run.")
    parser.add_argument("--rounds", type=int, default=5, help="Alternating rounds.")
    parser.add_argument("--connections", type=int, default=50, help="Concurrent wrk connections.")
    args = parser.parse_args()

    upstream_port, nginx_port, plain_port = free_port(), free_port(), free_port()
    results: dict[str, list[WrkResult]] = {}
    cpu: dict[str, list[tuple[float, float]]] = {}
    with contextlib.ExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="stockade-ab-")))
        stack.enter_context(nginx(upstream_block(upstream_port, None)))
        wait_for_port(upstream_port)
        stack.enter_context(
            nginx(proxy_block(nginx_port, plain_port, upstream_port, str(folder), None))
        )
        wait_for_port(nginx_port)
        ports = {"nginx": nginx_port, "nginx-plain": plain_port}
        pids: dict[str, int] = {}
        builds: dict[str, str] = {}
        for index, commit in enumerate(args.commits):
            tree = folder / f"tree-{index}"
            tree.mkdir()
            source = export_source(commit, tree)
            os.environ["PYTHONPATH"] = str(source)
            os.environ[native.DIRECTORY_VARIABLE] = str(tree / ".native")
            builds[commit] = build_native(commit, source)
            port = free_port()
            gateway_folder = stack.enter_context(
                stockade(stockade_config(upstream_port, None), port)
            )
            ports[commit], pids[commit] = port, worker_pid(gateway_folder)
        os.environ.pop("PYTHONPATH", None)
        os.environ.pop(native.DIRECTORY_VARIABLE, None)
        for port in ports.values():  # warm-up
            wrk(f"http://127.0.0.1:{port}/items/1", seconds=2, connections=args.connections)
        for _ in range(args.rounds):
            for name, port in ports.items():
                before = worker_cpu_seconds(pids[name]) if name in pids else (0.0, 0.0)
                result = wrk(
                    f"http://127.0.0.1:{port}/items/42",
                    seconds=args.seconds,
                    connections=args.connections,
                )
                results.setdefault(name, []).append(result)
                if name in pids:
                    after = worker_cpu_seconds(pids[name])
                    served = result.requests_per_second * args.seconds
                    cpu.setdefault(name, []).append(
                        ((after[0] - before[0]) / served, (after[1] - before[1]) / served)
                    )

    print(
        f"machine: {machine_line()}; {args.rounds} rounds of {args.seconds}s, "
        f"{args.connections} connections, medians"
    )
    nginx_rps = statistics.median(r.requests_per_second for r in results["nginx"])
    plain_rps = statistics.median(r.requests_per_second for r in results["nginx-plain"])
    print(f"nginx {nginx_rps:.0f} req/s, nginx-plain {plain_rps:.0f} req/s")
    print(f"{'commit':<14} {'req/s':>8} {'/nginx':>7} {'/plain':>7} {'CPU us/req':>11} {'user':>6}"
          "  build")
    for commit in args.commits:
        rps = statistics.median(r.requests_per_second for r in results[commit])
        total = statistics.median((user + system) * 1e6 for user, system in cpu[commit])
        user = statistics.median(user * 1e6 for user, _ in cpu[commit])
        print(
            f"{commit:<14} {rps:>8.0f} {rps / nginx_rps:>7.2f} {rps / plain_rps:>7.2f} "
            f"{total:>11.1f} {user:>6.1f}  {builds[commit]}"
        )


if __name__ == "__main__":
    main()
