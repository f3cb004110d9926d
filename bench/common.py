"""Shared pieces of the side-by-side benchmarks: nginx, Stockade and wrk on loopback.

Every server here listens on 127.0.0.1 only. Results are medians over
alternating rounds, because this kind of machine is noisy.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout}s")


def require(tool: str) -> str:
    path = shutil.which(tool) or (
        f"/usr/sbin/{tool}" if os.path.exists(f"/usr/sbin/{tool}") else None
    )
    if path is None:
        sys.exit(f"{tool} is not installed; run scripts/system-packages --bench first")
    return path


@contextmanager
def nginx(server_block: str, *, modules: str = "", workers: int = 1) -> Iterator[Path]:
    """Run nginx in the foreground with one server block; yield its prefix folder."""
    binary = require("nginx")
    prefix = Path(tempfile.mkdtemp(prefix="stockade-bench-nginx-"))
    (prefix / "logs").mkdir()
    conf = prefix / "nginx.conf"
    conf.write_text(f"""
{modules}
worker_processes {workers};
error_log {prefix}/logs/error.log warn;
pid {prefix}/nginx.pid;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {prefix}/body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    keepalive_requests 1000000;
    {server_block}
}}
""")
    process = subprocess.Popen(
        [binary, "-p", str(prefix), "-c", str(conf), "-g", "daemon off;"], stderr=subprocess.PIPE
    )
    try:
        yield prefix
    finally:
        process.send_signal(signal.SIGQUIT)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
        shutil.rmtree(prefix, ignore_errors=True)


@contextmanager
def stockade(config: dict[str, object], port: int) -> Iterator[Path]:
    """Run ``stockade serve`` with ``config``; yield its folder (access log inside)."""
    folder = Path(tempfile.mkdtemp(prefix="stockade-bench-gw-"))
    config = dict(config)
    config.setdefault("listeners", [{"name": "public", "address": f"127.0.0.1:{port}"}])
    config.setdefault("admin", {"address": f"127.0.0.1:{free_port()}"})
    config.setdefault("workers", 1)
    config.setdefault("access_log", {"path": str(folder / "access.log")})
    path = folder / "stockade.yaml"
    path.write_text(yaml.safe_dump(config))
    log = open(folder / "gateway.log", "wb")
    process = subprocess.Popen(
        [str(ROOT / ".venv/bin/stockade"), "serve", "-c", str(path)], stdout=log, stderr=log
    )
    try:
        wait_for_port(port)
        yield folder
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()
        shutil.rmtree(folder, ignore_errors=True)


@dataclass
class WrkResult:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    errors: int


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def wrk(
    url: str,
    *,
    seconds: int,
    connections: int,
    threads: int = 1,
    script: str | None = None,
    headers: list[str] | None = None,
) -> WrkResult:
    command = [
        require("wrk"),
        "-t",
        str(threads),
        "-c",
        str(connections),
        "-d",
        f"{seconds}s",
        "--latency",
    ]
    for header in headers or []:
        command += ["-H", header]
    if script:
        command += ["-s", script]
    command.append(url)
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    percentiles = dict(re.findall(r"^\s+(50|99)%\s+([\d.]+\w+)", output, re.MULTILINE))
    errors = 0
    for match in re.finditer(
        r"Non-2xx or 3xx responses: (\d+)|Socket errors: .*?(\d+) timeout", output
    ):
        errors += int(match.group(1) or 0)
    return WrkResult(
        rps, _ms(percentiles.get("50", "0ms")), _ms(percentiles.get("99", "0ms")), errors
    )


def _ms(text: str) -> float:
    match = re.match(r"([\d.]+)(us|ms|s)", text)
    if match is None:
        return float("nan")
    return float(match.group(1)) * _UNITS[match.group(2)]


def median_result(results: list[WrkResult]) -> WrkResult:
    return WrkResult(
        statistics.median(r.requests_per_second for r in results),
        statistics.median(r.p50_ms for r in results),
        statistics.median(r.p99_ms for r in results),
        sum(r.errors for r in results),
    )


def stockade_build() -> str:
    """Return which build of this checkout ``stockade serve`` runs: compiled or interpreted.

    A stale build is not used, so after an edit the gateway runs interpreted
    at a fraction of its speed. This warns about that on standard error.
    """
    from stockade import native

    if os.environ.get(native.SWITCH_VARIABLE) == "0":
        return "Stockade interpreted (STOCKADE_NATIVE=0)"
    if native.build_matches(native.build_directory()):
        return "Stockade compiled"
    print("warning: no compiled build matches the sources, so Stockade runs interpreted; "
          "run scripts/bootstrap first to measure the compiled build", file=sys.stderr)
    return "Stockade interpreted (no compiled build matches the sources)"


def machine_line() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores, {cpu}, Python {sys.version.split()[0]}"
