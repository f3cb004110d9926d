"""A worker process: the event loop, its listeners, and reload and drain in place.

Workers bind their own listening sockets with SO_REUSEPORT, so the kernel
spreads connections over them. SIGHUP makes a worker load the config file
again: a valid config swaps in a new Runtime without closing any connection;
an invalid one is logged and the old config keeps serving. SIGTERM stops
accepting, lets exchanges in flight finish (up to ``shutdown_timeout``) and exits.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import os
import signal
import socket
import ssl
import sys
from typing import Any

from stockade.config.loader import ConfigError, load_config
from stockade.config.models import GatewayConfig, Listener, parse_address
from stockade.events.model import SecurityEvent
from stockade.gateway.accesslog import AccessLog
from stockade.gateway.admin_listener import start_admin_listener
from stockade.gateway.metrics import SNAPSHOT_INTERVAL, Metrics
from stockade.gateway.plugins import EVENT_PIPELINE_FACTORY, load_factory
from stockade.gateway.runtime import Runtime
from stockade.gateway.server import ClientConnection
from stockade.gateway.tls import ClientCertificatePolicy, TlsContexts
from stockade.logs import configure_logging

log = logging.getLogger("stockade.gateway.worker")  # not __name__, which is __main__ here

LISTEN_BACKLOG = 1024
"""Pending connections per listening socket."""


class Worker:
    def __init__(self, config_path: str, config: GatewayConfig, index: int = 0) -> None:
        self.config_path = config_path
        self.index = index
        self.event_pipeline: Any = self._create_event_pipeline(config)
        self.runtime = Runtime.build(config, emit=self.emit)
        self.metrics = Metrics(index)
        self.access_log = AccessLog(config.access_log)
        self.connections: set[ClientConnection] = set()
        self.inflight = 0
        self.draining = False
        self.servers: dict[str, asyncio.Server] = {}
        self.listener_settings: dict[str, Listener] = {}
        self.tls: dict[str, TlsContexts] = {}
        self.admin_server: asyncio.Server | None = None
        self._snapshot_task: asyncio.Task[None] | None = None
        self._stopped = asyncio.Event()

    # connection bookkeeping -------------------------------------------------

    def admit(self, connection: ClientConnection) -> bool:
        if self.draining or len(self.connections) >= self.runtime.config.limits.max_connections:
            return False
        self.connections.add(connection)
        return True

    def forget(self, connection: ClientConnection) -> None:
        self.connections.discard(connection)
        if self.draining and not self.connections:
            self._stopped.set()

    @staticmethod
    def sni_of(ssl_object: Any) -> str | None:
        value = getattr(ssl_object, "stockade_sni", None)
        return value if isinstance(value, str) else None

    # start, reload, stop ----------------------------------------------------

    async def start(self) -> None:
        if self.event_pipeline is not None:
            await self.event_pipeline.start()
        await self._start_observers(self.runtime)
        for listener in self.runtime.config.listeners:
            await self._open_listener(listener)
        admin = self.runtime.config.admin
        if admin is not None:
            self.admin_server = await start_admin_listener(admin.address, self)
        self._snapshot_task = asyncio.get_running_loop().create_task(self._snapshot_metrics())

    async def _snapshot_metrics(self) -> None:
        while True:
            await asyncio.sleep(SNAPSHOT_INTERVAL)
            self.metrics.write_snapshot()

    @staticmethod
    def _create_event_pipeline(config: GatewayConfig) -> Any:
        factory = load_factory(EVENT_PIPELINE_FACTORY)
        return factory(config) if factory is not None else None

    @staticmethod
    async def _start_observers(runtime: Runtime) -> None:
        """Start the background tasks of log observers that have them."""
        for observer in runtime.observers:
            start = getattr(observer, "start", None)
            if start is not None:
                await start()

    def emit(self, event: SecurityEvent) -> None:
        """Hand a security event to the event pipeline; never blocks."""
        if self.event_pipeline is not None:
            self.event_pipeline.submit(event)

    async def _open_listener(self, listener: Listener) -> None:
        host, port = parse_address(listener.address)
        ssl_context: ssl.SSLContext | None = None
        if listener.tls is not None:
            contexts = TlsContexts(listener.tls, client_certificate_policies(self.runtime.config))
            self.tls[listener.name] = contexts
            ssl_context = contexts.front
        sock = _reuseport_socket(host, port)
        tls = ssl_context is not None
        server = await asyncio.get_running_loop().create_server(
            lambda: ClientConnection(self, tls), sock=sock, ssl=ssl_context, backlog=LISTEN_BACKLOG
        )
        self.servers[listener.name] = server
        self.listener_settings[listener.name] = listener
        log.info(
            "worker %d listening on %s%s", self.index, listener.address, " (TLS)" if tls else ""
        )

    async def reload(self) -> bool:
        """Load the config file again and swap it in; keep the old one when it is invalid."""
        try:
            config = load_config(self.config_path)
            runtime = Runtime.build(config, self.runtime.resources, self.emit)
        except ConfigError as exc:
            for issue in exc.issues:
                log.error("config reload rejected: %s", issue)
            log.error("config reload rejected, the previous config keeps serving")
            return False
        except Exception:
            log.exception("config reload failed, the previous config keeps serving")
            return False
        try:
            await self._apply_listeners(config)
        except (OSError, ssl.SSLError) as exc:
            log.error("config reload rejected: a listener could not be set up: %s", exc)
            runtime.close()
            return False
        await self._start_observers(runtime)
        if self.event_pipeline is not None:
            self.event_pipeline.apply_config(config)  # alert rules and sink settings
        old, self.runtime = self.runtime, runtime
        old.close()
        log.info("worker %d reloaded %s", self.index, self.config_path)
        return True

    async def _apply_listeners(self, config: GatewayConfig) -> None:
        configured = {listener.name: listener for listener in config.listeners}
        for name, listener in configured.items():
            current = self.listener_settings.get(name)
            if (
                current is not None
                and current.address == listener.address
                and (current.tls is None) == (listener.tls is None)
            ):
                if listener.tls is not None:
                    self.tls[name].update(listener.tls, client_certificate_policies(config))
                self.listener_settings[name] = listener
                continue
            if current is not None:
                self._close_listener(name)
            await self._open_listener(listener)
        for name in list(self.servers):
            if name not in configured:
                self._close_listener(name)

    def _close_listener(self, name: str) -> None:
        server = self.servers.pop(name)
        server.close()
        self.listener_settings.pop(name, None)
        self.tls.pop(name, None)

    async def drain_and_stop(self) -> None:
        self.draining = True
        for name in list(self.servers):
            self._close_listener(name)
        if self.admin_server is not None:
            self.admin_server.close()
        for connection in list(self.connections):
            connection.close_if_idle()
        if self.connections:
            try:
                await asyncio.wait_for(self._stopped.wait(), self.runtime.config.shutdown_timeout)
            except TimeoutError:
                log.warning(
                    "worker %d: %d connections still open after %.0fs, closing them",
                    self.index,
                    len(self.connections),
                    self.runtime.config.shutdown_timeout,
                )
                for connection in list(self.connections):
                    connection.abort()
        if self._snapshot_task is not None:
            self._snapshot_task.cancel()
        self.metrics.write_snapshot()
        self.access_log.close()
        for observer in self.runtime.observers:
            close = getattr(observer, "close", None)
            if close is not None:
                try:
                    await close()
                except Exception:
                    log.exception("log observer %s failed to close", type(observer).__name__)
        if self.event_pipeline is not None:
            await self.event_pipeline.close(5.0)
        self.runtime.close()


def client_certificate_policies(config: GatewayConfig) -> dict[str, ClientCertificatePolicy]:
    """Return the mTLS settings per hostname from the authentication layer, if it is installed."""
    factory = load_factory("stockade.auth.mtls:client_ca_for")
    if factory is None:
        return {}
    result: dict[str, ClientCertificatePolicy] = {}
    for hostname, settings in factory(config).items():
        result[hostname.lower()] = ClientCertificatePolicy(settings.ca_file, settings.required)
    return result


def _reuseport_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((host, port))
    sock.setblocking(False)
    return sock


async def run_worker(config_path: str, index: int, ready_fd: int | None) -> int:
    try:
        config = load_config(config_path)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 1
    try:
        worker = Worker(config_path, config, index)
    except ConfigError as exc:  # a stage factory could not use a file or setting
        for issue in exc.issues:
            log.error("worker %d cannot serve the config: %s", index, issue)
        return 1
    await worker.start()
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    reloads: list[asyncio.Task[bool]] = []
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    loop.add_signal_handler(
        signal.SIGHUP, lambda: reloads.append(loop.create_task(worker.reload()))
    )
    # Rule sets, routes and imports are loaded now and live as long as the
    # worker. Freezing them keeps the garbage collector from rescanning them:
    # about 4 % less CPU per proxied request with bench/gateway_commits.py.
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_COLLECTION_ALLOCATIONS)
    if ready_fd is not None:
        os.write(ready_fd, b"ready\n")
        os.close(ready_fd)
    await stop.wait()
    log.info("worker %d draining", index)
    await worker.drain_and_stop()
    return 0


YOUNG_COLLECTION_ALLOCATIONS = 20_000
"""Allocations between collections of the youngest generation (Python's default is 700).

A WAF transaction allocates thousands of objects, and the caches it fills
are not covered by the gc.freeze() at start-up, so the default threshold
collects several times per request. With the CRS at paranoia level 1, a
varied GET through one worker (bench/waf.py's workload) took about 9 %
less worker CPU (2 cores, Xeon, Python 3.11.7).
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="stockade-worker")
    parser.add_argument("--config", required=True)
    parser.add_argument("--index", type=int, default=0)
    parser.add_argument("--ready-fd", type=int, default=None)
    parser.add_argument("--log-level", default="info")
    args = parser.parse_args(argv)
    configure_logging(args.log_level)
    try:
        import uvloop

        return uvloop.run(run_worker(args.config, args.index, args.ready_fd))
    except ImportError:
        return asyncio.run(run_worker(args.config, args.index, args.ready_fd))


if __name__ == "__main__":
    sys.exit(main())
