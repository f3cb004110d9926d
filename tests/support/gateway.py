"""Start a real ``stockade serve`` process on loopback for end-to-end tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import yaml


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, timeout: float = 20.0, host: str = "127.0.0.1",
                  process: subprocess.Popen[bytes] | None = None) -> None:
    """Wait until ``port`` accepts connections; give up early when ``process`` has exited."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise TimeoutError(f"the process exited with status {process.returncode}")
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on {host}:{port} after {timeout}s")


class GatewayProcess:
    """A gateway subprocess with its config file; stop() sends SIGTERM and waits."""

    def __init__(self, config: dict[str, Any], directory: Path, workers: int = 1) -> None:
        self.port = free_port()
        self.admin_port = free_port()
        config = dict(config)
        config.setdefault("listeners", [{"name": "public", "address": f"127.0.0.1:{self.port}"}])
        self.port = int(config["listeners"][0]["address"].rsplit(":", 1)[1])
        config.setdefault("admin", {"address": f"127.0.0.1:{self.admin_port}"})
        config.setdefault("workers", workers)
        config.setdefault("access_log", {"path": str(directory / "access.log")})
        self.config = config
        self.config_path = directory / "stockade.yaml"
        self.log_path = directory / "gateway.log"
        self.write_config(config)
        self.process: subprocess.Popen[bytes] | None = None

    def write_config(self, config: dict[str, Any]) -> None:
        self.config = config
        tmp = self.config_path.with_suffix(".tmp")
        tmp.write_text(yaml.safe_dump(config))
        os.replace(tmp, self.config_path)

    def start(self) -> GatewayProcess:
        log = open(self.log_path, "ab")
        env = dict(os.environ, STOCKADE_LOG_FORMAT="text")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "stockade.cli", "serve", "-c", str(self.config_path)],
            stdout=log,
            stderr=log,
            env=env,
        )
        try:
            wait_for_port(self.port, process=self.process)
        except TimeoutError:
            self.stop()
            raise RuntimeError(
                f"gateway did not start; log:\n{self.log_path.read_text()}"
            ) from None
        return self

    def reload(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGHUP)

    def stop(self) -> int | None:
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        return self.process.returncode

    def logs(self) -> str:
        return self.log_path.read_text(errors="replace")


def service_config(
    upstreams: list[str],
    *,
    host: str = "api.test",
    tenant: str = "acme",
    service: str = "api",
    **extra: Any,
) -> dict[str, Any]:
    """A one-tenant, one-service config section pointing at ``upstreams``."""
    service_section: dict[str, Any] = {
        "id": service,
        "hosts": [host],
        "upstream": {"targets": upstreams},
    }
    service_section.update(extra)
    return {"tenants": [{"id": tenant, "services": [service_section]}]}
