"""Start the demo API as a subprocess on a free loopback port, for scanner tests."""

from __future__ import annotations

import queue
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

REPO = Path(__file__).resolve().parents[2]
DEMO_DIR = REPO / "examples" / "demo_api"
OPENAPI = DEMO_DIR / "openapi.yaml"
STARTUP_TIMEOUT_SECONDS = 20.0
USERS = ("alice", "bob", "carol")


def demo_password(username: str) -> str:
    return f"{username}-demo-pass"


def _drain(stream: IO[bytes], lines: queue.Queue[bytes]) -> None:
    for line in iter(stream.readline, b""):
        lines.put(line)


@contextmanager
def demo_api(log_path: Path, fixed: bool = False) -> Iterator[str]:
    """Run the demo API (vulnerable, or fixed); yield its base URL."""
    command = [sys.executable, str(DEMO_DIR), "--port", "0", "--log-level", "warning"]
    if fixed:
        command.append("--fixed")
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=log)
    try:
        yield f"http://127.0.0.1:{_await_port(process, log_path)}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _await_port(process: subprocess.Popen[bytes], log_path: Path) -> int:
    assert process.stdout is not None
    lines: queue.Queue[bytes] = queue.Queue()
    threading.Thread(target=_drain, args=(process.stdout, lines), daemon=True).start()
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=0.1).decode()
        except queue.Empty:
            if process.poll() is not None:
                break
            continue
        if "listening on http://127.0.0.1:" in line:
            return int(line.rsplit(":", 1)[1])
    raise AssertionError(f"demo API did not start; its log:\n{log_path.read_text()}")


def login_args() -> list[str]:
    """CLI options that log in the three demo users and the admin."""
    args = ["--login-path", "/api/v2/login"]
    for user in USERS:
        args += ["--user", f"{user}:{demo_password(user)}"]
    return [*args, "--admin", f"admin:{demo_password('admin')}"]
