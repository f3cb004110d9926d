from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest

from stockade.gateway.connection import ParserProtocol
from stockade.http.limits import ParserLimits
from stockade.http.messages import RequestHead
from stockade.http.parser import RequestParser

REQUEST = b"GET / HTTP/1.1\r\nHost: a.test\r\n\r\n"

Pair = tuple[ParserProtocol, asyncio.StreamWriter]


@pytest.fixture
async def pair() -> AsyncIterator[Pair]:
    """A ParserProtocol serving one loopback connection, and the client's writer."""
    loop = asyncio.get_running_loop()
    accepted: asyncio.Future[ParserProtocol] = loop.create_future()

    def factory() -> ParserProtocol:
        protocol = ParserProtocol(RequestParser(ParserLimits()))
        accepted.set_result(protocol)
        return protocol

    server = await loop.create_server(factory, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    _, writer = await asyncio.open_connection("127.0.0.1", port)
    protocol = await accepted
    yield protocol, writer
    writer.close()
    server.close()
    await server.wait_closed()


async def test_short_wait_after_long_wait_times_out(pair: Pair) -> None:
    protocol, writer = pair
    writer.write(REQUEST)
    assert isinstance(await protocol.next_event(30), RequestHead)
    protocol.parser.start_next_message()
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        await protocol.next_event(0.2)
    assert time.monotonic() - started < 10  # the 30 s timer of the first wait is not the one used


async def test_early_timer_keeps_later_wait(pair: Pair) -> None:
    protocol, writer = pair
    writer.write(REQUEST)
    assert isinstance(await protocol.next_event(0.1), RequestHead)
    protocol.parser.start_next_message()
    # The timer armed for the first wait fires during the second one.
    loop = asyncio.get_running_loop()
    loop.call_later(0.3, writer.write, REQUEST)
    assert isinstance(await protocol.next_event(5), RequestHead)


async def test_wait_readable_times_out_repeatedly(pair: Pair) -> None:
    protocol, _ = pair
    for _ in range(3):
        with pytest.raises(TimeoutError):
            await protocol.wait_readable(0.05)
    assert not protocol.closed
