"""Minimal reverse proxy on uvloop and httptools, the reference point for bench/gateway.py.

Usage: .venv/bin/python bench/bare_relay.py LISTEN_PORT UPSTREAM_HOST:UPSTREAM_PORT

One process runs one event loop and listens on 127.0.0.1:LISTEN_PORT. Each client
connection is paired with one keep-alive upstream connection, taken from a pool of idle
ones or opened on demand, and the pair lasts until the client connection closes. httptools
parses requests and responses. The relay serializes the request line and fields again,
drops the hop-by-hop Connection and Keep-Alive fields in both directions, and relays
bodies as they arrive. It does no logging, no routing and no other field rewriting, so it
shows what the event loop and the parser cost on their own.

Limits: it is written for what wrk sends in bench/gateway.py, GET requests with small
responses. Bodies must be framed by Content-Length. A request with Transfer-Encoding gets
501 and a response without Content-Length gets 502 (except 204 and 304), and either closes
the client connection. HEAD requests, 1xx responses, upgrades, TLS and timeouts are not
handled. Requests go upstream as HTTP/1.1, so an HTTP/1.0 request needs a Host field.
The upstream must be a loopback IP address. SIGTERM or SIGINT closes the listener
and every connection, and the process exits with status 0.
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import signal
from collections import deque

import httptools
import uvloop

LISTEN_HOST = "127.0.0.1"
# Maximum number of idle upstream connections kept for reuse. bench/gateway.py opens 50
# client connections.
POOL_SIZE = 64
HOP_BY_HOP_FIELDS = frozenset({b"connection", b"keep-alive"})
STATUSES_WITHOUT_BODY = frozenset({204, 304})
BAD_REQUEST = b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
NOT_IMPLEMENTED = b"HTTP/1.1 501 Not Implemented\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
BAD_GATEWAY = b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"


class UnsupportedFraming(Exception):
    """A message whose body is not framed by Content-Length."""


class UpstreamPool:
    """Idle keep-alive connections to the one upstream, reused by later client connections."""

    def __init__(self, host: str, port: int) -> None:
        self._host = host
        self._port = port
        self._idle: list[UpstreamProtocol] = []
        self._closed = False

    async def acquire(self) -> UpstreamProtocol:
        """Return an open idle connection, or open a new one (raises OSError on failure)."""
        while self._idle:
            upstream = self._idle.pop()
            if not upstream.closed:
                return upstream
        loop = asyncio.get_running_loop()
        _, upstream = await loop.create_connection(UpstreamProtocol, self._host, self._port)
        return upstream

    def release(self, upstream: UpstreamProtocol, *, reusable: bool) -> None:
        """Keep ``upstream`` for reuse, or close it if it is not reusable or the pool is full."""
        upstream.client = None
        if not reusable or upstream.closed or self._closed or len(self._idle) >= POOL_SIZE:
            upstream.close()
            return
        self._idle.append(upstream)

    def close(self) -> None:
        self._closed = True
        for upstream in self._idle:
            upstream.close()
        self._idle.clear()


class UpstreamProtocol(asyncio.Protocol):
    """One connection to the upstream, which passes each parsed response to its client."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.client: ClientProtocol | None = None
        self.closed = False
        self._parser = httptools.HttpResponseParser(self)
        self._reason: list[bytes] = []
        self._fields: list[bytes] = []
        self._has_content_length = False

    def write(self, data: bytes) -> None:
        if self.transport is not None:
            self.transport.write(data)

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError:
            # Covers UnsupportedFraming, which httptools wraps in HttpParserCallbackError.
            self.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self.client is not None:
            self.client.upstream_lost()

    def pause_writing(self) -> None:
        if self.client is not None and self.client.transport is not None:
            self.client.transport.pause_reading()

    def resume_writing(self) -> None:
        if self.client is not None and self.client.transport is not None:
            self.client.transport.resume_reading()

    # httptools callbacks

    def on_message_begin(self) -> None:
        self._reason = []
        self._fields = []
        self._has_content_length = False

    def on_status(self, status: bytes) -> None:
        self._reason.append(status)

    def on_header(self, name: bytes, value: bytes) -> None:
        lowered = name.lower()
        if lowered in HOP_BY_HOP_FIELDS:
            return
        if lowered == b"content-length":
            self._has_content_length = True
        self._fields += (name, b": ", value, b"\r\n")

    def on_headers_complete(self) -> None:
        status = self._parser.get_status_code()
        if not self._has_content_length and status not in STATUSES_WITHOUT_BODY:
            raise UnsupportedFraming(f"upstream response {status} has no Content-Length")
        if self.client is not None:
            reason = b"".join(self._reason)
            self.client.send_response_head(b"HTTP/1.1 %d %s\r\n" % (status, reason), self._fields)

    def on_body(self, body: bytes) -> None:
        if self.client is not None:
            self.client.send_response_body(body)

    def on_message_complete(self) -> None:
        if self.client is not None:
            self.client.finish_response()


class ClientProtocol(asyncio.Protocol):
    """One client connection, which forwards each parsed request over its upstream connection."""

    def __init__(self, pool: UpstreamPool, connections: set[ClientProtocol]) -> None:
        self.transport: asyncio.Transport | None = None
        self._pool = pool
        self._connections = connections
        self._parser = httptools.HttpRequestParser(self)
        self._upstream: UpstreamProtocol | None = None
        self._attach_task: asyncio.Task[None] | None = None
        # Request bytes received before the upstream connection is ready.
        self._backlog: list[bytes] = []
        # For each forwarded request still waiting for its response, whether the client
        # connection stays open after that response.
        self._pending: deque[bool] = deque()
        self._url: list[bytes] = []
        self._fields: list[bytes] = []
        self._chunked = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self._connections.add(self)
        self._attach_task = asyncio.get_running_loop().create_task(self._attach())

    async def _attach(self) -> None:
        try:
            upstream = await self._pool.acquire()
        except OSError:
            self._reject(BAD_GATEWAY)
            return
        if self.transport is None or self.transport.is_closing():
            self._pool.release(upstream, reusable=True)
            return
        upstream.client = self
        self._upstream = upstream
        if self._backlog:
            upstream.write(b"".join(self._backlog))
            self._backlog = []

    def data_received(self, data: bytes) -> None:
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserCallbackError:
            self._reject(NOT_IMPLEMENTED)
        except (httptools.HttpParserError, httptools.HttpParserUpgrade):
            self._reject(BAD_REQUEST)

    def connection_lost(self, exc: Exception | None) -> None:
        self._connections.discard(self)
        if self._attach_task is not None and not self._attach_task.done():
            self._attach_task.cancel()
        if self._upstream is not None:
            # An upstream with responses in flight would send them to the next client.
            self._pool.release(self._upstream, reusable=not self._pending)
            self._upstream = None

    def pause_writing(self) -> None:
        if self._upstream is not None and self._upstream.transport is not None:
            self._upstream.transport.pause_reading()

    def resume_writing(self) -> None:
        if self._upstream is not None and self._upstream.transport is not None:
            self._upstream.transport.resume_reading()

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()

    def upstream_lost(self) -> None:
        """Close this connection, sending a 502 first if a request is still waiting."""
        self._upstream = None
        self._reject(BAD_GATEWAY if self._pending else b"")

    def send_response_head(self, status_line: bytes, fields: list[bytes]) -> None:
        if self.transport is None:
            return
        if not self._pending[0]:
            fields.append(b"Connection: close\r\n")
        fields.append(b"\r\n")
        self.transport.write(status_line + b"".join(fields))

    def send_response_body(self, body: bytes) -> None:
        if self.transport is not None:
            self.transport.write(body)

    def finish_response(self) -> None:
        if not self._pending.popleft():
            self.close()

    def _forward(self, data: bytes) -> None:
        if self._upstream is not None:
            self._upstream.write(data)
        else:
            self._backlog.append(data)

    def _reject(self, response: bytes) -> None:
        if self.transport is None or self.transport.is_closing():
            return
        if response:
            self.transport.write(response)
        self.transport.close()

    # httptools callbacks

    def on_message_begin(self) -> None:
        self._url = []
        self._fields = []
        self._chunked = False

    def on_url(self, url: bytes) -> None:
        self._url.append(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        lowered = name.lower()
        if lowered in HOP_BY_HOP_FIELDS:
            return
        if lowered == b"transfer-encoding":
            self._chunked = True
        self._fields += (name, b": ", value, b"\r\n")

    def on_headers_complete(self) -> None:
        if self._chunked:
            raise UnsupportedFraming("request body framed by Transfer-Encoding")
        self._pending.append(self._parser.should_keep_alive())
        self._fields.append(b"\r\n")
        request_line = b"%s %s HTTP/1.1\r\n" % (self._parser.get_method(), b"".join(self._url))
        self._forward(request_line + b"".join(self._fields))

    def on_body(self, body: bytes) -> None:
        self._forward(body)


async def serve(listen_port: int, upstream_host: str, upstream_port: int) -> None:
    """Relay requests until SIGTERM or SIGINT, then close every connection."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    pool = UpstreamPool(upstream_host, upstream_port)
    connections: set[ClientProtocol] = set()
    server = await loop.create_server(
        lambda: ClientProtocol(pool, connections), LISTEN_HOST, listen_port, backlog=1024
    )
    await stop.wait()
    server.close()
    for connection in list(connections):
        connection.close()
    pool.close()
    await server.wait_closed()
    # Let connection_lost run for the transports closed above before the loop stops.
    await asyncio.sleep(0)


def parse_upstream(text: str) -> tuple[str, int]:
    """Split HOST:PORT and check that HOST is a loopback IP address."""
    host, separator, port = text.rpartition(":")
    host = host.strip("[]")
    if not separator or not port.isdigit():
        raise argparse.ArgumentTypeError(
            f"invalid upstream {text!r}: expected HOST:PORT, such as 127.0.0.1:8080"
        )
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"upstream host {host!r} is not an IP address. Use 127.0.0.1 or ::1"
        ) from None
    if not address.is_loopback:
        raise argparse.ArgumentTypeError(
            f"upstream host {host!r} is not a loopback address. Use 127.0.0.1 or ::1"
        )
    return host, int(port)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("listen_port", type=int, help="Port to listen on at 127.0.0.1.")
    parser.add_argument(
        "upstream", type=parse_upstream, help="Upstream as HOST:PORT, a loopback IP address."
    )
    args = parser.parse_args()
    host, port = args.upstream
    uvloop.run(serve(args.listen_port, host, port))


if __name__ == "__main__":
    main()
