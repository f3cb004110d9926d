"""A loopback HTTP/1.1 upstream for tests, run on its own thread and event loop.

It records every raw request it receives and behaves by path:
``/echo`` returns a JSON description of the request, ``/slow?ms=N`` waits
first, ``/reset`` drops the connection, ``/big?bytes=N`` streams N bytes
chunked, ``/status/N`` answers with status N, ``/split?ms=N`` sends the
JSON description in two writes N ms apart, anything else returns a small
JSON body.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import ssl
import threading
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit


@dataclass
class ReceivedRequest:
    method: str
    target: str
    headers: list[tuple[str, str]]
    body: bytes
    raw_head: bytes
    connection_id: int

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None


@dataclass
class TestUpstream:
    __test__ = False  # a helper, not a test class for pytest to collect
    host: str = "127.0.0.1"
    port: int = 0
    requests: list[ReceivedRequest] = field(default_factory=list)
    raw_bytes: bytearray = field(default_factory=bytearray)
    connections: int = 0
    last_client_certificate: dict[str, object] | None = None
    name: str = "upstream"
    ssl_context: ssl.SSLContext | None = None

    def __post_init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._server: asyncio.Server | None = None

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def start(self) -> TestUpstream:
        self._thread.start()
        self._ready.wait(10)
        return self

    def stop(self) -> None:
        async def close() -> None:
            if self._server is not None:
                self._server.close()
            tasks = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(close(), self._loop).result(5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._server = self._loop.run_until_complete(
            asyncio.start_server(self._handle, self.host, self.port, ssl=self.ssl_context)
        )
        self.port = self._server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        ssl_object = writer.get_extra_info("ssl_object")
        self.last_client_certificate = ssl_object.getpeercert() if ssl_object is not None else None
        connection_id = self.connections
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                self.raw_bytes += head
                lines = head.decode("latin-1").split("\r\n")
                method, target, _ = lines[0].split(" ", 2)
                headers = [
                    tuple(part.strip() for part in line.split(":", 1)) for line in lines[1:] if line
                ]
                request = ReceivedRequest(method, target, headers, b"", head, connection_id)  # type: ignore[arg-type]
                request.body = await self._read_body(reader, request)
                self.raw_bytes += request.body
                self.requests.append(request)
                if not await self._respond(request, writer):
                    return
                if (request.header("connection") or "").lower() == "close":
                    break
        except asyncio.CancelledError:
            pass
        finally:
            writer.close()

    async def _read_body(self, reader: asyncio.StreamReader, request: ReceivedRequest) -> bytes:
        if (request.header("transfer-encoding") or "").lower() == "chunked":
            body = b""
            while True:
                size_line = await reader.readuntil(b"\r\n")
                size = int(size_line.split(b";")[0], 16)
                if size == 0:
                    await reader.readuntil(b"\r\n")
                    return body
                body += await reader.readexactly(size)
                await reader.readexactly(2)
        length = int(request.header("content-length") or 0)
        return await reader.readexactly(length) if length else b""

    async def _respond(self, request: ReceivedRequest, writer: asyncio.StreamWriter) -> bool:
        url = urlsplit(request.target)
        query = parse_qs(url.query)
        path = url.path
        if path == "/reset":
            writer.transport.abort()
            return False
        if path == "/slow":
            await asyncio.sleep(int(query.get("ms", ["100"])[0]) / 1000)
        if path == "/big":
            size = int(query.get("bytes", ["1048576"])[0])
            writer.write(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
                b"Transfer-Encoding: chunked\r\n\r\n"
            )
            block = b"x" * 65536
            sent = 0
            while sent < size:
                part = block[: min(len(block), size - sent)]
                writer.write(f"{len(part):x}\r\n".encode() + part + b"\r\n")
                sent += len(part)
                await writer.drain()
            writer.write(b"0\r\n\r\n")
            await writer.drain()
            return True
        status = 200
        if path.startswith("/status/"):
            status = int(path.rsplit("/", 1)[1])
        payload = {
            "upstream": self.name,
            "method": request.method,
            "target": request.target,
            "headers": request.headers,
            "body_length": len(request.body),
            "body_sha256": hashlib.sha256(request.body).hexdigest(),
            "connection": request.connection_id,
        }
        body = json.dumps(payload).encode()
        if request.method == "HEAD" or status in (204, 304):
            body_bytes = b""
        else:
            body_bytes = body
        head = (
            f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n".encode()
        )
        if path == "/split" and body_bytes:
            writer.write(head + body_bytes[:10])
            await writer.drain()
            await asyncio.sleep(int(query.get("ms", ["50"])[0]) / 1000)
            body_bytes = body_bytes[10:]
            head = b""
        writer.write(head + body_bytes)
        await writer.drain()
        return True
