"""The data plane's own admin listener: /metrics for Prometheus and /healthz.

A deliberately small HTTP/1.1 server on its own port, bound by every worker
with SO_REUSEPORT; any worker answers for all of them.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from typing import TYPE_CHECKING

from stockade.config.models import parse_address
from stockade.gateway.metrics import render

if TYPE_CHECKING:
    from stockade.gateway.worker import Worker

log = logging.getLogger(__name__)

MAX_ADMIN_REQUEST_BYTES = 8 * 1024
"""Admin requests are a request line and a few fields."""

ADMIN_READ_TIMEOUT = 5.0
"""Seconds to receive an admin request head."""


async def start_admin_listener(address: str, worker: Worker) -> asyncio.Server:
    host, port = parse_address(address)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.setblocking(False)

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), ADMIN_READ_TIMEOUT)
        except (
            asyncio.IncompleteReadError,
            asyncio.LimitOverrunError,
            TimeoutError,
            ConnectionError,
        ):
            writer.close()
            return
        request_line = head.split(b"\r\n", 1)[0].split(b" ")
        path = request_line[1] if len(request_line) == 3 else b""
        if request_line[0] != b"GET":
            status, body, kind = (
                b"405 Method Not Allowed",
                b"only GET is served here\n",
                b"text/plain",
            )
        elif path == b"/metrics":
            status, body, kind = b"200 OK", render(worker.metrics), b"text/plain; version=0.0.4"
        elif path == b"/healthz":
            state = b"draining" if worker.draining else b"ok"
            status, body, kind = b"200 OK", state + b"\n", b"text/plain"
        else:
            status, body, kind = b"404 Not Found", b"try /metrics or /healthz\n", b"text/plain"
        writer.write(
            b"HTTP/1.1 "
            + status
            + b"\r\nContent-Type: "
            + kind
            + b"\r\nContent-Length: "
            + str(len(body)).encode()
            + b"\r\nConnection: close\r\n\r\n"
            + body
        )
        try:
            await writer.drain()
        except ConnectionError:
            pass
        writer.close()

    return await asyncio.start_server(handle, sock=sock, limit=MAX_ADMIN_REQUEST_BYTES)
