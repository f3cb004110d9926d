"""Upstream pools: keep-alive connections to a service's targets.

Targets are used round-robin. Passive health checks eject a target after
``max_failures`` consecutive connection failures for ``eject_seconds``; when
every target is ejected, the one whose ejection ends first still gets traffic
so that recovery is noticed.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Protocol

from stockade.config.models import Upstream, parse_address
from stockade.gateway.connection import ParserProtocol
from stockade.gateway.upstream_tls import (
    PinMismatch,
    UpstreamTlsContext,
    describe_tls_failure,
)
from stockade.http.parser import ParserLimits, ResponseParser

log = logging.getLogger(__name__)

UPSTREAM_PARSER_LIMITS = ParserLimits(
    max_header_bytes=64 * 1024, max_header_count=256, max_target_bytes=8 * 1024
)
"""Backends are trusted more than clients, but a runaway response head is still cut off."""


class ResponseListener(Protocol):
    """The callbacks of an exchange that waits for its response head without a task."""

    def upstream_readable(self) -> None:
        """Look for the response head after bytes arrived or the upstream closed."""

    def upstream_timed_out(self) -> None:
        """Handle the read timeout passing without a complete response head."""


class UpstreamConnection(ParserProtocol[ResponseParser]):
    def __init__(self, target: Target) -> None:
        super().__init__(ResponseParser(UPSTREAM_PARSER_LIMITS))
        self.target = target
        self.idle_handle: asyncio.TimerHandle | None = None
        self.idle_until: float | None = None  # loop time to close at while pooled; None in use
        self.requests = 0
        self.bytes_before_request = 0  # bytes_received when the current request was written
        # Set while a callback-driven exchange waits for the response head;
        # a task awaiting next_event() is woken through its future instead.
        self.listener: ResponseListener | None = None

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.listener is not None:
            self.listener.upstream_readable()

    def eof_received(self) -> bool | None:
        super().eof_received()
        if self.listener is not None:
            self.listener.upstream_readable()
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        super().connection_lost(exc)
        if self.idle_handle is not None:
            self.idle_handle.cancel()
            self.idle_handle = None
        if self.listener is not None:
            self.listener.upstream_readable()

    def wait_for_response(self, listener: ResponseListener, timeout: float) -> None:
        """Tell ``listener`` about bytes, the close, or ``timeout`` seconds passing."""
        self.listener = listener
        loop = self.running_loop()
        self._deadline = loop.time() + timeout
        if self._timer is None or self._deadline < self._timer_when:
            self._arm_timer(loop, self._deadline)

    def _on_timer(self) -> None:
        listener = self.listener
        if listener is None or self._waiter is not None:
            super()._on_timer()
            return
        self._timer = None
        loop = self.running_loop()
        if loop.time() >= self._deadline:
            listener.upstream_timed_out()
        else:
            self._arm_timer(loop, self._deadline)


@dataclass(eq=False)
class Target:
    address: str
    host: str
    port: int
    failures: int = 0
    ejected_until: float = 0.0
    idle: deque[UpstreamConnection] = field(default_factory=deque)
    host_field: bytes = field(init=False)
    """The Host value that names this target; IPv6 literals get their brackets."""

    def __post_init__(self) -> None:
        host = f"[{self.host}]" if ":" in self.host else self.host
        self.host_field = f"{host}:{self.port}".encode("ascii")


class UpstreamError(Exception):
    """The upstream could not be reached or sent an invalid response; ``status`` is 502 or 504."""

    def __init__(
        self, message: str, status: int = 502, *, reached: bool = False, kind: str = "failure"
    ) -> None:
        super().__init__(message)
        self.status = status
        self.reached = reached  # bytes of the request may have reached the upstream
        self.kind = kind  # failure, timeout or tls: the metric label and event kind
        # True when the upstream had closed this pooled connection while it was
        # idle, so another attempt does not count against the pool's retries.
        self.stale = False


class Overloaded(Exception):
    """The service has ``max_concurrent`` requests in flight and no slot came free in time."""


class UpstreamPool:
    def __init__(
        self, name: str, settings: Upstream, tls: UpstreamTlsContext | None = None
    ) -> None:
        self.name = name
        self.settings = settings
        self.tls = tls
        self.in_flight = 0
        self._waiters: deque[asyncio.Future[None]] = deque()
        self.targets = [Target(address, *parse_address(address)) for address in settings.targets]
        self._next = 0
        self._closed = False

    def pick(self, exclude: Target | None = None) -> Target:
        """Return the next healthy target round-robin, avoiding ``exclude`` when possible."""
        now = time.monotonic()
        count = len(self.targets)
        for _ in range(count):
            target = self.targets[self._next % count]
            self._next += 1
            if target.ejected_until <= now and (target is not exclude or count == 1):
                return target
        return min(self.targets, key=lambda item: item.ejected_until)

    def admit_now(self) -> bool:
        """Take a free slot under ``max_concurrent`` and return True, or return False.

        False means the caller must wait in ``admit``. Without ``max_concurrent``
        every request is admitted at once.
        """
        limit = self.settings.max_concurrent
        if limit is None:
            return True
        if self.in_flight < limit and not self._waiters:
            self.in_flight += 1
            return True
        return False

    async def admit(self) -> None:
        """Take a slot under ``max_concurrent``, waiting up to ``queue_timeout``."""
        if self.admit_now():
            return
        if len(self._waiters) >= self.settings.max_queue or self.settings.queue_timeout == 0:
            raise Overloaded(f"{self.name}: {self.in_flight} requests in flight, queue full")
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await asyncio.wait_for(asyncio.shield(waiter), self.settings.queue_timeout)
        except TimeoutError:
            if waiter.done() and not waiter.cancelled():
                return  # the slot was handed over just as the wait ended
            waiter.cancel()
            self._waiters.remove(waiter)
            raise Overloaded(
                f"{self.name}: no free slot within {self.settings.queue_timeout:g}s"
            ) from None

    def leave(self) -> None:
        """Give back a slot taken by ``admit``, handing it to the oldest waiter."""
        if self.settings.max_concurrent is None:
            return
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)  # the slot passes on: in_flight stays the same
                return
        self.in_flight -= 1

    async def acquire(self, target: Target) -> tuple[UpstreamConnection, bool]:
        """Return a pooled connection to ``target`` (reused=True) or a new one."""
        conn = self.take_idle(target)
        if conn is not None:
            return conn, True
        return await self._connect(target), False

    def take_idle(self, target: Target) -> UpstreamConnection | None:
        """Return a pooled connection to ``target`` that is still usable, or None."""
        while target.idle:
            conn = target.idle.pop()
            conn.idle_until = None  # its idle timer, when it fires, now leaves it open
            if not conn.closed and not conn.eof and conn.parser.buffered == 0:
                return conn
            conn.close()
        return None

    async def _connect(self, target: Target) -> UpstreamConnection:
        loop = asyncio.get_running_loop()
        tls = self.tls
        context = tls.current() if tls is not None else None
        server_name = None
        if tls is not None:
            server_name = tls.settings.server_name or target.host
        try:
            _, conn = await asyncio.wait_for(
                loop.create_connection(
                    lambda: UpstreamConnection(target),
                    target.host,
                    target.port,
                    ssl=context,
                    server_hostname=server_name,
                ),
                timeout=self.settings.connect_timeout,
            )
        except TimeoutError as exc:
            self.report_failure(target)
            raise UpstreamError(
                f"connect to {target.address} timed out", 504, kind="timeout"
            ) from exc
        except ssl.SSLError as exc:
            self.report_failure(target)
            reason = describe_tls_failure(exc)
            log.warning("upstream %s target %s: %s", self.name, target.address, reason)
            raise UpstreamError(f"{target.address}: {reason}", 502, kind="tls") from exc
        except OSError as exc:
            self.report_failure(target)
            raise UpstreamError(f"connect to {target.address} failed: {exc}", 502) from exc
        if tls is not None and tls.pins:
            ssl_object = conn.transport.get_extra_info("ssl_object") if conn.transport else None
            try:
                tls.check_pin(ssl_object.getpeercert(binary_form=True) if ssl_object else None)
            except PinMismatch as exc:
                conn.abort()
                self.report_failure(target)
                log.warning("upstream %s target %s: %s", self.name, target.address, exc)
                raise UpstreamError(f"{target.address}: {exc}", 502, kind="tls") from exc
        return conn

    def release(self, conn: UpstreamConnection, reusable: bool) -> None:
        target = conn.target
        if (
            not reusable
            or self._closed
            or conn.closed
            or conn.eof
            or len(target.idle) >= self.settings.max_idle_per_target
        ):
            conn.close()
            return
        conn.parser.start_next_message()
        # One timer per connection stays armed across uses instead of one
        # made and cancelled per request: it re-arms itself while the
        # connection is reused and closes it once idle past idle_until.
        loop = conn.running_loop()
        conn.idle_until = loop.time() + self.settings.idle_timeout
        if conn.idle_handle is None:
            conn.idle_handle = loop.call_at(conn.idle_until, _close_idle, target, conn)
        target.idle.append(conn)

    def report_success(self, target: Target) -> None:
        target.failures = 0

    def report_failure(self, target: Target) -> None:
        target.failures += 1
        if target.failures >= self.settings.passive_health.max_failures:
            target.ejected_until = time.monotonic() + self.settings.passive_health.eject_seconds
            target.failures = 0
            log.warning(
                "upstream %s target %s ejected for %.1fs after repeated failures",
                self.name,
                target.address,
                self.settings.passive_health.eject_seconds,
            )

    def close(self) -> None:
        """Close idle connections; connections in use close when they are released."""
        self._closed = True
        for target in self.targets:
            while target.idle:
                target.idle.pop().close()


def _close_idle(target: Target, conn: UpstreamConnection) -> None:
    conn.idle_handle = None
    idle_until = conn.idle_until
    if idle_until is None:
        return  # in use: release arms the timer again
    loop = conn.running_loop()
    if loop.time() < idle_until:
        conn.idle_handle = loop.call_at(idle_until, _close_idle, target, conn)
        return
    try:
        target.idle.remove(conn)
    except ValueError:
        return
    conn.close()
