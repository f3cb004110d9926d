"""The syslog sink: CEF in RFC 5424 messages over UDP, TCP or TLS.

UDP sends one message per datagram (RFC 5426) and has no acknowledgement,
so it is best effort. TCP and TLS frame messages by octet counting
(RFC 6587, RFC 5425) and reconnect when the receiver closed the connection.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import ssl
from collections.abc import Sequence

from stockade.events.cef import format_syslog, frame_octet_counted, truncate_datagram
from stockade.events.model import SecurityEvent
from stockade.events.sinks.base import Delivery, DeliveryError

log = logging.getLogger(__name__)

MAX_DATAGRAM_BYTES = 2048
"""Maximum UDP message in bytes, the size RFC 5426 says receivers should accept."""


class _DatagramProtocol(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.errors = 0

    def error_received(self, exc: Exception) -> None:
        self.errors += 1
        log.debug("syslog datagram error: %s", exc)


class SyslogSink:
    def __init__(self, name: str, host: str, port: int, transport: str, *, facility: int,
                 app_name: str, hostname: str | None, timeout_seconds: float,
                 ssl_context: ssl.SSLContext | None = None,
                 server_name: str | None = None) -> None:
        self.name = name
        self.host = host
        self.port = port
        self.transport = transport
        # NOTE: TCP and TLS are at least once only while the receiver closes
        # connections cleanly. Syslog has no acknowledgement, so events the
        # receiver had not read when it crashed are lost.
        self.delivery = Delivery.BEST_EFFORT if transport == "udp" else Delivery.AT_LEAST_ONCE
        self._facility = facility
        self._app_name = app_name
        self._hostname = hostname or socket.gethostname()
        self._procid = str(os.getpid())
        self._timeout = timeout_seconds
        self._ssl = ssl_context
        self._server_name = server_name or host
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._datagram: asyncio.DatagramTransport | None = None

    def _message(self, event: SecurityEvent) -> bytes:
        return format_syslog(event, facility=self._facility, hostname=self._hostname,
                             app_name=self._app_name, procid=self._procid)

    async def deliver(self, events: Sequence[SecurityEvent]) -> None:
        if self.transport == "udp":
            await self._send_datagrams(events)
        else:
            await self._send_stream(events)

    async def _send_datagrams(self, events: Sequence[SecurityEvent]) -> None:
        if self._datagram is None or self._datagram.is_closing():
            loop = asyncio.get_running_loop()
            try:
                self._datagram, _ = await loop.create_datagram_endpoint(
                    _DatagramProtocol, remote_addr=(self.host, self.port))
            except OSError as exc:
                raise DeliveryError(f"cannot open UDP socket to {self.host}:{self.port}: "
                                    f"{exc}") from exc
        for event in events:
            self._datagram.sendto(truncate_datagram(self._message(event), MAX_DATAGRAM_BYTES))

    async def _connect(self) -> asyncio.StreamWriter:
        if self._writer is not None and self._reader is not None:
            if not self._reader.at_eof() and not self._writer.is_closing():
                return self._writer
            await self._drop_connection()
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(
                    self.host, self.port, ssl=self._ssl,
                    server_hostname=self._server_name if self._ssl else None),
                self._timeout)
        except (OSError, TimeoutError, ssl.SSLError) as exc:
            raise DeliveryError(f"cannot connect to syslog receiver {self.host}:{self.port} "
                                f"over {self.transport}: {exc!r}") from exc
        self._reader, self._writer = reader, writer
        log.info("connected to syslog receiver %s:%d over %s", self.host, self.port,
                 self.transport)
        return writer

    async def _send_stream(self, events: Sequence[SecurityEvent]) -> None:
        writer = await self._connect()
        data = b"".join(frame_octet_counted(self._message(event)) for event in events)
        try:
            writer.write(data)
            await asyncio.wait_for(writer.drain(), self._timeout)
        except (OSError, TimeoutError) as exc:
            await self._drop_connection()
            raise DeliveryError(f"sending to syslog receiver {self.host}:{self.port} failed: "
                                f"{exc!r}") from exc

    async def _drop_connection(self) -> None:
        writer, self._writer, self._reader = self._writer, None, None
        if writer is not None:
            writer.close()
            try:
                await asyncio.wait_for(writer.wait_closed(), self._timeout)
            except (OSError, TimeoutError, ssl.SSLError):
                pass  # the connection is gone either way

    async def close(self) -> None:
        await self._drop_connection()
        if self._datagram is not None:
            self._datagram.close()
            self._datagram = None
