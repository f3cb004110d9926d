"""The demo API and a canary listener for the protection tests, all on 127.0.0.1."""

from __future__ import annotations

import http.client
import json
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

EXAMPLES_DIR = Path(__file__).resolve().parents[2] / "examples"
DEMO_DIR = EXAMPLES_DIR / "demo_api"
OPENAPI_PATH = DEMO_DIR / "openapi.yaml"
STARTUP_TIMEOUT_SECONDS = 20.0
REQUEST_TIMEOUT_SECONDS = 10.0


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def call(port: int, method: str, path: str, *, host: str = "api.test", body: object = None,
         token: str | None = None, client_ip: str | None = None,
         headers: dict[str, str] | None = None) -> Reply:
    """Send one request to 127.0.0.1:``port`` and read the whole answer."""
    all_headers = {"Host": host, **(headers or {})}
    if token is not None:
        all_headers["Authorization"] = f"Bearer {token}"
    if client_ip is not None:
        all_headers["X-Forwarded-For"] = client_ip
    payload = None
    if body is not None:
        payload = json.dumps(body).encode()
        all_headers["Content-Type"] = "application/json"
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT_SECONDS)
    try:
        connection.request(method, path, body=payload, headers=all_headers)
        response = connection.getresponse()
        data = response.read()
        return Reply(response.status, {k.lower(): v for k, v in response.getheaders()}, data)
    finally:
        connection.close()


class DemoApi:
    """The vulnerable demo API as a subprocess on a kernel-chosen loopback port."""

    def __init__(self, log_path: Path, fixed: bool = False) -> None:
        command = [sys.executable, str(DEMO_DIR), "--port", "0", "--log-level", "warning"]
        if fixed:
            command.append("--fixed")
        self.log_path = log_path
        with log_path.open("wb") as log:
            self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=log)
        self.port = self._await_port()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _await_port(self) -> int:
        assert self.process.stdout is not None
        lines: queue.Queue[bytes] = queue.Queue()

        def drain(stream: Any) -> None:
            for line in iter(stream.readline, b""):
                lines.put(line)

        threading.Thread(target=drain, args=(self.process.stdout,), daemon=True).start()
        deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            try:
                line = lines.get(timeout=0.1).decode()
            except queue.Empty:
                if self.process.poll() is not None:
                    break
                continue
            if "listening on http://127.0.0.1:" in line:
                return int(line.rsplit(":", 1)[1])
        self.stop()
        raise RuntimeError(f"demo API did not start; its log:\n{self.log_path.read_text()}")

    def direct(self, method: str, path: str, **kwargs: Any) -> Reply:
        """Call the demo API itself, bypassing the gateway."""
        return call(self.port, method, path, host="127.0.0.1", **kwargs)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class Canary:
    """An HTTP listener on 127.0.0.1 that records every request it gets."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        canary = self

        class Handler(BaseHTTPRequestHandler):
            def _record(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                canary.requests.append(self.path)
                body = b"canary-reached"
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = _record

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}/hook"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def read_events(path: Path, expected: Callable[[list[dict[str, Any]]], bool],
                timeout: float = 10.0) -> list[dict[str, Any]]:
    """Read the JSON-lines event file, waiting until ``expected`` holds for it or time is up."""
    deadline = time.monotonic() + timeout
    events: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        if path.exists():
            events = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
            if expected(events):
                return events
        time.sleep(0.1)
    return events
