"""The SSRF canary: an HTTP listener on 127.0.0.1 that records who called it.

The scanner gives the target URLs that point here, each with a fresh token
in the path; a request carrying the token proves the target fetched the
URL. The listener binds loopback only, so the check works only when the
target runs on the same machine as the scanner (or reaches its loopback).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from dataclasses import dataclass

log = logging.getLogger(__name__)

MAX_REQUEST_HEAD_BYTES = 16 * 1024
"""Bytes of a request head the canary reads; it needs only the request line."""

READ_TIMEOUT_SECONDS = 5.0
RESPONSE_BODY = b"stockade-canary"


@dataclass(frozen=True, slots=True)
class CanaryHit:
    method: str
    path: str
    time: float


class Canary:
    """A loopback listener; ``url(token)`` names a URL, ``wait_for(token)`` awaits a call."""

    def __init__(self) -> None:
        self.hits: list[CanaryHit] = []
        self._server: asyncio.Server | None = None
        self._arrived = asyncio.Event()
        self.port = 0

    async def start(self) -> Canary:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        log.info("SSRF canary listening on 127.0.0.1:%s", self.port)
        return self

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def new_token(self) -> str:
        return secrets.token_hex(8)

    def url(self, token: str) -> str:
        return f"http://127.0.0.1:{self.port}/stockade-canary/{token}"

    def hits_for(self, token: str) -> list[CanaryHit]:
        return [hit for hit in self.hits if token in hit.path]

    async def wait_for(self, token: str, timeout: float) -> list[CanaryHit]:
        deadline = time.monotonic() + timeout
        while not self.hits_for(token):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            self._arrived.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._arrived.wait(), remaining)
        return self.hits_for(token)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            line = await asyncio.wait_for(reader.readline(), READ_TIMEOUT_SECONDS)
            parts = line[:MAX_REQUEST_HEAD_BYTES].decode("latin-1").split()
            if len(parts) >= 2:
                self.hits.append(CanaryHit(parts[0], parts[1], time.time()))
                self._arrived.set()
            head = b""
            while len(head) < MAX_REQUEST_HEAD_BYTES:
                chunk = await asyncio.wait_for(reader.readline(), READ_TIMEOUT_SECONDS)
                if chunk in (b"\r\n", b"\n", b""):
                    break
                head += chunk
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: "
                         + str(len(RESPONSE_BODY)).encode() + b"\r\nConnection: close\r\n\r\n"
                         + RESPONSE_BODY)
            await writer.drain()
        except (TimeoutError, ConnectionError) as exc:
            log.debug("canary connection ended early: %r", exc)
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()
