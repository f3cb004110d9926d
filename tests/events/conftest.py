"""Local receivers on loopback for the sink tests: HTTP, syslog over UDP and TCP."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import pytest

LOOPBACK = "127.0.0.1"
HEC_SUCCESS = b'{"text":"Success","code":0}'


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


@dataclass
class HttpRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


class HttpReceiver:
    """A small HTTP/1.1 server that records each request and answers with ``status``."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.requests: list[HttpRequest] = []
        self.statuses: list[int] = []  # statuses to answer first, then 200
        self.reply = HEC_SUCCESS
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, LOOPBACK, self.port,
                                                  reuse_address=True)

    async def stop(self) -> None:
        if self._server is None:
            return
        self._server.close()
        for writer in list(self._writers):
            writer.close()
        await self._server.wait_closed()
        self._server = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        try:
            while True:
                request_line = await reader.readline()
                if not request_line:
                    return
                method, path, _ = request_line.decode().split(" ", 2)
                headers: dict[str, str] = {}
                while (line := await reader.readline()) not in (b"\r\n", b""):
                    name, _, value = line.decode().partition(":")
                    headers[name.strip().lower()] = value.strip()
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                self.requests.append(HttpRequest(method, path, headers, body))
                status = self.statuses.pop(0) if self.statuses else 200
                writer.write(b"HTTP/1.1 %d X\r\nContent-Type: application/json\r\n"
                             b"Content-Length: %d\r\n\r\n%s" % (status, len(self.reply),
                                                                self.reply))
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            return
        finally:
            self._writers.discard(writer)
            writer.close()


class TcpSyslogReceiver:
    """Receives octet-counted syslog messages."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.messages: list[bytes] = []
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, LOOPBACK, self.port,
                                                  reuse_address=True)

    async def stop(self) -> None:
        if self._server is None:
            return
        self._server.close()
        for writer in list(self._writers):
            writer.close()
        await self._server.wait_closed()
        self._server = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        try:
            while True:
                length = await reader.readuntil(b" ")
                self.messages.append(await reader.readexactly(int(length[:-1])))
        except (ConnectionError, asyncio.IncompleteReadError):
            return
        finally:
            self._writers.discard(writer)
            writer.close()


@dataclass
class _UdpProtocol(asyncio.DatagramProtocol):
    messages: list[bytes] = field(default_factory=list)

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.messages.append(data)


@pytest.fixture
async def http_receiver() -> AsyncIterator[HttpReceiver]:
    receiver = HttpReceiver(free_port())
    await receiver.start()
    yield receiver
    await receiver.stop()


@pytest.fixture
async def tcp_syslog() -> AsyncIterator[TcpSyslogReceiver]:
    receiver = TcpSyslogReceiver(free_port())
    await receiver.start()
    yield receiver
    await receiver.stop()


@pytest.fixture
async def udp_syslog() -> AsyncIterator[tuple[int, list[bytes]]]:
    loop = asyncio.get_running_loop()
    protocol = _UdpProtocol()
    transport, _ = await loop.create_datagram_endpoint(lambda: protocol,
                                                       local_addr=(LOOPBACK, 0))
    port = transport.get_extra_info("sockname")[1]
    yield port, protocol.messages
    transport.close()


async def wait_until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    """Poll ``condition`` until it holds; fail the test after ``timeout`` seconds."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(timeout):
            while not condition():
                await asyncio.sleep(0.01)
    assert condition(), "condition still false after waiting"


@pytest.fixture
def wait() -> Callable[..., object]:
    return wait_until
