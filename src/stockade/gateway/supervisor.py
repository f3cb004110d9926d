"""The supervisor process of ``stockade serve``.

It validates the config, starts one worker process per core (or as many as
configured), restarts a worker that dies, and turns SIGHUP or a change of the
config file into a reload: the new file is validated here first, as
``stockade config validate`` would, and only a valid one is passed on to the
workers, which swap it in without dropping connections. SIGTERM or SIGINT
drains the workers and exits.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from types import FrameType

from stockade.config.loader import ConfigError, load_config
from stockade.config.models import GatewayConfig
from stockade.gateway.runtime import check_files
from stockade.logs import configure_logging

log = logging.getLogger(__name__)

WATCH_INTERVAL = 1.0
"""Seconds between checks of the config file's modification time."""

READY_TIMEOUT = 60.0
"""Seconds a new worker has to open its listeners."""

LAYER_CHECK_TIMEOUT = 120.0
"""Seconds the check of a changed config may take to build every route's stages."""

RESTART_BACKOFF_MAX = 30.0
"""Longest wait before restarting a worker that keeps dying."""


@dataclass
class _WorkerProcess:
    index: int
    process: subprocess.Popen[bytes]
    started: float
    failures: int = 0


class Supervisor:
    def __init__(
        self,
        config_path: str,
        config: GatewayConfig,
        *,
        workers: int | None = None,
        log_level: str = "info",
    ) -> None:
        self.config_path = os.path.abspath(config_path)
        self.config = config
        self.log_level = log_level
        requested = workers if workers is not None else config.workers
        self.count = (os.cpu_count() or 1) if requested == "auto" else int(requested)
        self.workers: list[_WorkerProcess] = []
        self._stop = False
        self._reload = False
        self._mtime = self._config_mtime()
        self._metrics_dir = tempfile.mkdtemp(prefix="stockade-metrics-")

    def run(self) -> int:
        configure_logging(self.log_level)
        signal.signal(signal.SIGTERM, self._on_stop)
        signal.signal(signal.SIGINT, self._on_stop)
        signal.signal(signal.SIGHUP, self._on_reload)
        try:
            for index in range(self.count):
                worker = self._spawn(index)
                if worker is None:
                    self._terminate_all()
                    return 1
                self.workers.append(worker)
            log.info("stockade serving with %d worker%s (config %s)", self.count,
                     "s" if self.count != 1 else "", self.config_path)
            self._loop()
            return 0
        finally:
            self._terminate_all()
            shutil.rmtree(self._metrics_dir, ignore_errors=True)

    def _on_stop(self, signum: int, frame: FrameType | None) -> None:
        self._stop = True

    def _on_reload(self, signum: int, frame: FrameType | None) -> None:
        self._reload = True

    def _loop(self) -> None:
        while not self._stop:
            time.sleep(WATCH_INTERVAL / 4)
            mtime = self._config_mtime()
            if mtime != self._mtime:
                self._mtime = mtime
                self._reload = True
            if self._reload:
                self._reload = False
                self._reload_workers()
            self._restart_dead()

    def _reload_workers(self) -> None:
        try:
            config = load_config(self.config_path)
        except ConfigError as exc:
            _reject_change([str(issue) for issue in exc.issues])
            return
        problems = check_files(config) or _layer_problems(self.config_path)
        if problems:
            _reject_change(problems)
            return
        self.config = config
        log.info("config is valid, reloading %d workers", len(self.workers))
        for worker in self.workers:
            if worker.process.poll() is None:
                worker.process.send_signal(signal.SIGHUP)

    def _restart_dead(self) -> None:
        for position, worker in enumerate(self.workers):
            code = worker.process.poll()
            if code is None or self._stop:
                continue
            failures = worker.failures + 1 if time.monotonic() - worker.started < 10 else 0
            delay = min(RESTART_BACKOFF_MAX, 0.5 * 2**failures)
            log.error(
                "worker %d exited with status %s; restarting in %.1fs", worker.index, code, delay
            )
            time.sleep(delay)
            replacement = self._spawn(worker.index)
            if replacement is not None:
                replacement.failures = failures
                self.workers[position] = replacement

    def _spawn(self, index: int) -> _WorkerProcess | None:
        read_fd, write_fd = os.pipe()
        env = dict(os.environ, STOCKADE_METRICS_DIR=self._metrics_dir)
        command = [
            sys.executable,
            "-m",
            "stockade.gateway.worker",
            "--config",
            self.config_path,
            "--index",
            str(index),
            "--ready-fd",
            str(write_fd),
            "--log-level",
            self.log_level,
        ]
        process = subprocess.Popen(command, pass_fds=(write_fd,), env=env)
        os.close(write_fd)
        ready = _wait_ready(read_fd, READY_TIMEOUT)
        os.close(read_fd)
        if not ready:
            log.error("worker %d did not start (status %s)", index, process.poll())
            if process.poll() is None:
                process.kill()
            return None
        return _WorkerProcess(index, process, time.monotonic())

    def _terminate_all(self) -> None:
        for worker in self.workers:
            if worker.process.poll() is None:
                worker.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + self.config.shutdown_timeout + 5
        for worker in self.workers:
            remaining = max(0.1, deadline - time.monotonic())
            try:
                worker.process.wait(remaining)
            except subprocess.TimeoutExpired:
                log.error("worker %d did not stop in time; killing it", worker.index)
                worker.process.kill()
        self.workers = []

    def _config_mtime(self) -> float:
        try:
            return os.stat(self.config_path).st_mtime
        except OSError:
            return 0.0


def _reject_change(problems: list[str]) -> None:
    """Log each problem of a rejected config change as its own line."""
    for problem in problems:
        log.error("config change rejected: %s", problem)
    log.error("config change rejected with %d error%s, the previous config keeps serving",
              len(problems), "s" if len(problems) != 1 else "")


def _layer_problems(config_path: str) -> list[str]:
    """Build every route's stages of ``config_path`` in a child process; return what fails.

    This is the check of ``stockade config validate``, so a reload rejects
    what it rejects (an unreadable OpenAPI document, a rule file that does
    not parse, a missing secret). It runs in a child because the stage
    factories compile rule sets and open stores that the supervisor must not
    keep.
    """
    command = [sys.executable, "-m", "stockade.cli.main", "config", "validate", config_path]
    try:
        result = subprocess.run(command, capture_output=True, text=True,
                                timeout=LAYER_CHECK_TIMEOUT, check=False)
    except subprocess.TimeoutExpired:
        return [f"the security layers were not set up within {LAYER_CHECK_TIMEOUT:.0f} s"]
    except OSError as exc:
        return [f"the security layers could not be checked: {exc}"]
    if result.returncode == 0:
        return []
    prefix = f"{config_path}: "
    problems = [line.removeprefix(prefix) for line in result.stderr.splitlines()
                if line.startswith(prefix)]
    return problems or [f"the security layers could not be set up (check exited with status "
                        f"{result.returncode}): {result.stderr.strip()[-500:]}"]


def _wait_ready(fd: int, timeout: float) -> bool:
    import select

    deadline = time.monotonic() + timeout
    data = b""
    while time.monotonic() < deadline:
        readable, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
        if not readable:
            return False
        chunk = os.read(fd, 64)
        if not chunk:
            return False
        data += chunk
        if b"ready" in data:
            return True
    return False
