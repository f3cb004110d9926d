"""A pull-style asyncio protocol around a sans-IO parser.

Bytes received are fed to the parser; a coroutine pulls parsed events with
``next_event``. Reading pauses while too many unread bytes are buffered, and
``drain`` waits while the transport's write buffer is full, so a slow peer on
one side slows the other side instead of filling memory.
"""

from __future__ import annotations

import asyncio
from typing import Generic, Protocol, TypeVar, cast

from stockade.gateway.errors import PeerClosed
from stockade.http.messages import NEED_DATA, ParserEvent

READ_HIGH_WATER = 256 * 1024
"""Bytes buffered in the parser before reading from the socket pauses."""

READ_LOW_WATER = 64 * 1024
"""Bytes buffered below which reading resumes."""


class SansIOParser(Protocol):
    def feed(self, data: bytes) -> None: ...
    def feed_eof(self) -> None: ...
    def next_event(self) -> ParserEvent: ...
    def between_messages(self) -> bool: ...
    @property
    def buffered(self) -> int: ...


ParserT = TypeVar("ParserT", bound=SansIOParser)


class ParserProtocol(asyncio.Protocol, Generic[ParserT]):
    """An asyncio protocol that feeds its bytes to a parser of type ``ParserT``."""

    def __init__(self, parser: ParserT) -> None:
        self.parser = parser
        self.transport: asyncio.Transport | None = None
        # Python 3.11's asyncio.get_running_loop() makes a getpid() system call
        # each time, so the loop is looked up once per connection.
        self.loop: asyncio.AbstractEventLoop | None = None
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
        self.loop = asyncio.get_running_loop()

    def data_received(self, data: bytes) -> None:
        self.bytes_received += len(data)
        parser = self.parser
        parser.feed(data)
        if not self._read_paused and parser.buffered > READ_HIGH_WATER and self.transport:
            self._read_paused = True
            self.transport.pause_reading()
        waiter = self._waiter  # _wake written out, as this runs on every read
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

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
        parser = self.parser
        while True:
            event = NEED_DATA if parser.between_messages() else parser.next_event()
            if event is not NEED_DATA:
                if self._read_paused and self.parser.buffered < READ_LOW_WATER:
                    self._resume_reading()
                return event
            if self.closed or self.eof:
                raise PeerClosed("connection closed by peer")
            if self._read_paused:
                self._resume_reading()
            loop = self.running_loop()
            now = loop.time()
            if deadline is None:
                deadline = now + timeout
            if deadline <= now:
                raise TimeoutError()
            # Awaiting the future here rather than in a helper coroutine saves
            # one coroutine level on every resume of this (deep) call chain.
            waiter = self._new_waiter(loop, deadline)
            try:
                await waiter
            finally:
                self._waiter = None

    async def wait_readable(self, timeout: float) -> None:
        """Wait until some bytes are buffered or the peer has closed."""
        if self.parser.buffered or self.closed or self.eof:
            return
        if self._read_paused:
            self._resume_reading()
        loop = self.running_loop()
        waiter = self._new_waiter(loop, loop.time() + timeout)
        try:
            await waiter
        finally:
            self._waiter = None

    async def drain(self) -> None:
        if self.closed:
            raise PeerClosed("connection closed")
        if not self._write_paused:
            return
        waiter = self.running_loop().create_future()
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

    def running_loop(self) -> asyncio.AbstractEventLoop:
        """Return the event loop this connection runs on."""
        loop = self.loop
        return loop if loop is not None else asyncio.get_running_loop()

    # internals -------------------------------------------------------------

    def _resume_reading(self) -> None:
        if self._read_paused and self.transport is not None and not self.closed:
            self._read_paused = False
            self.transport.resume_reading()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _new_waiter(
        self, loop: asyncio.AbstractEventLoop, deadline: float
    ) -> asyncio.Future[None]:
        """Return a future that ``_wake`` completes or that fails with TimeoutError at ``deadline``.

        The caller awaits it and then sets ``_waiter`` back to None. Most waits
        end long before their deadline, so one timer per connection stays
        armed across waits instead of one made and cancelled per wait. A wait
        only moves the deadline. A timer that fires before the deadline arms
        itself again for the time left.
        """
        waiter = loop.create_future()
        self._waiter = waiter
        self._deadline = deadline
        if self._timer is None or deadline < self._timer_when:
            self._arm_timer(loop, deadline)
        return waiter

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
