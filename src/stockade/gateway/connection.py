"""A pull-style asyncio protocol around a sans-IO parser.

Bytes received are fed to the parser; a coroutine pulls parsed events with
``next_event``. Reading pauses while too many unread bytes are buffered, and
``drain`` waits while the transport's write buffer is full, so a slow peer on
one side slows the other side instead of filling memory.
"""

from __future__ import annotations

import asyncio
from typing import Protocol, cast

from stockade.http.messages import NEED_DATA, ParserEvent

READ_HIGH_WATER = 256 * 1024
"""Bytes buffered in the parser before reading from the socket pauses."""

READ_LOW_WATER = 64 * 1024
"""Bytes buffered below which reading resumes."""


class PeerClosed(ConnectionError):
    """The peer closed the connection before a message was complete."""


class SansIOParser(Protocol):
    def feed(self, data: bytes) -> None: ...
    def feed_eof(self) -> None: ...
    def next_event(self) -> ParserEvent: ...
    @property
    def buffered(self) -> int: ...


class ParserProtocol(asyncio.Protocol):
    def __init__(self, parser: SansIOParser) -> None:
        self.parser = parser
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.eof = False
        self._read_paused = False
        self._waiter: asyncio.Future[None] | None = None
        self._write_paused = False
        self._drain_waiter: asyncio.Future[None] | None = None
        self._deadline = 0.0  # loop time at which the current wait times out
        self._timer: asyncio.TimerHandle | None = None
        self._timer_when = 0.0  # loop time at which _timer fires
        self.bytes_received = 0

    # asyncio callbacks ------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(
            asyncio.Transport, transport
        )  # uvloop's transports do not subclass it

    def data_received(self, data: bytes) -> None:
        self.bytes_received += len(data)
        self.parser.feed(data)
        if not self._read_paused and self.parser.buffered > READ_HIGH_WATER and self.transport:
            self._read_paused = True
            self.transport.pause_reading()
        self._wake()

    def eof_received(self) -> bool | None:
        self.eof = True
        self.parser.feed_eof()
        self._wake()
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._wake()
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        waiter = self._drain_waiter
        if waiter is not None and not waiter.done():
            waiter.set_exception(PeerClosed("connection closed while writing"))
        self._drain_waiter = None

    def pause_writing(self) -> None:
        self._write_paused = True

    def resume_writing(self) -> None:
        self._write_paused = False
        waiter = self._drain_waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)
        self._drain_waiter = None

    # pulling and pushing ------------------------------------------------------

    async def next_event(self, timeout: float) -> ParserEvent:
        """Return the next parser event within ``timeout`` seconds in all.

        Raises TimeoutError, PeerClosed, or the parser's ProtocolError.
        """
        deadline: float | None = None
        while True:
            event = self.parser.next_event()
            if event is not NEED_DATA:
                if self._read_paused and self.parser.buffered < READ_LOW_WATER:
                    self._resume_reading()
                return event
            if self.closed or self.eof:
                raise PeerClosed("connection closed by peer")
            self._resume_reading()
            loop = asyncio.get_running_loop()
            if deadline is None:
                deadline = loop.time() + timeout
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError()
            await self._wait(remaining)

    async def wait_readable(self, timeout: float) -> None:
        """Wait until some bytes are buffered or the peer has closed."""
        if self.parser.buffered or self.closed or self.eof:
            return
        self._resume_reading()
        await self._wait(timeout)

    async def drain(self) -> None:
        if self.closed:
            raise PeerClosed("connection closed")
        if not self._write_paused:
            return
        waiter = asyncio.get_running_loop().create_future()
        self._drain_waiter = waiter
        await waiter

    def write(self, data: bytes) -> None:
        if self.transport is not None and not self.closed:
            self.transport.write(data)

    def close(self) -> None:
        if self.transport is not None and not self.closed:
            self.transport.close()
        self.closed = True

    def abort(self) -> None:
        if self.transport is not None:
            self.transport.abort()
        self.closed = True

    # internals -------------------------------------------------------------

    def _resume_reading(self) -> None:
        if self._read_paused and self.transport is not None and not self.closed:
            self._read_paused = False
            self.transport.resume_reading()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def _wait(self, timeout: float) -> None:
        """Wait for ``_wake`` or raise TimeoutError after ``timeout`` seconds.

        Most waits end long before their timeout, so one timer per connection
        stays armed across waits instead of one made and cancelled per wait.
        A wait only moves the deadline. A timer that fires before the
        deadline arms itself again for the time left.
        """
        loop = asyncio.get_running_loop()
        waiter = loop.create_future()
        self._waiter = waiter
        deadline = loop.time() + timeout
        self._deadline = deadline
        if self._timer is None or deadline < self._timer_when:
            self._arm_timer(loop, deadline)
        try:
            await waiter
        finally:
            self._waiter = None

    def _arm_timer(self, loop: asyncio.AbstractEventLoop, when: float) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer_when = when
        self._timer = loop.call_at(when, self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        waiter = self._waiter
        if waiter is None or waiter.done():
            return
        loop = waiter.get_loop()
        if loop.time() >= self._deadline:
            waiter.set_exception(TimeoutError())
        else:
            self._arm_timer(loop, self._deadline)
