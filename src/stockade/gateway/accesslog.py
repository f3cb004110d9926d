"""The JSON access log: one line per exchange, written in batches off the hot path."""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from typing import IO, Any

from stockade.config.models import AccessLog as AccessLogSettings
from stockade.gateway.exchange import Exchange

log = logging.getLogger(__name__)

FLUSH_INTERVAL = 0.2
"""Seconds between flushes: lines reach the file at most this late."""

MAX_PENDING_LINES = 10_000
"""Lines kept while the file cannot be written; older ones are counted as dropped."""


class AccessLog:
    def __init__(self, settings: AccessLogSettings) -> None:
        self.enabled = settings.enabled
        self.path = settings.path
        self._file: IO[str] | None = None
        self._lines: list[str] = []
        self._handle: asyncio.TimerHandle | None = None
        self.dropped = 0
        if self.enabled:
            self._file = (
                sys.stdout
                if self.path == "-"
                else open(self.path, "a", encoding="utf-8", buffering=1024 * 1024)
            )

    def record(self, exchange: Exchange) -> None:
        if not self.enabled:
            return
        self._lines.append(json.dumps(access_record(exchange), separators=(",", ":")))
        if len(self._lines) > MAX_PENDING_LINES:
            self.dropped += len(self._lines) - MAX_PENDING_LINES
            del self._lines[: len(self._lines) - MAX_PENDING_LINES]
        if self._handle is None:
            self._handle = asyncio.get_running_loop().call_later(FLUSH_INTERVAL, self.flush)

    def flush(self) -> None:
        self._handle = None
        if not self._lines or self._file is None:
            return
        try:
            self._file.write("\n".join(self._lines) + "\n")
            self._file.flush()
        except OSError as exc:
            log.error("cannot write the access log %s: %s", self.path, exc)
            return
        self._lines.clear()

    def close(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
        self.flush()
        if self._file is not None and self._file is not sys.stdout:
            self._file.close()
        self._file = None


def access_record(exchange: Exchange) -> dict[str, Any]:
    request = exchange.request
    record: dict[str, Any] = {
        "time": round(exchange.started_wall, 3),
        "request_id": exchange.request_id,
        "tenant": exchange.tenant_id,
        "service": exchange.service_id,
        "route": exchange.route_id,
        "client": exchange.client.address,
        "method": request.method.decode("latin-1"),
        "host": getattr(request, "authority", b"").decode("latin-1"),
        "path": request.target.decode("latin-1"),
        "status": exchange.status,
        "bytes_in": exchange.request_bytes,
        "bytes_out": exchange.response_bytes,
        "duration_ms": round(exchange.duration * 1000, 3),
        "upstream": exchange.upstream_target,
        "upstream_ms": None
        if exchange.upstream_seconds is None
        else round(exchange.upstream_seconds * 1000, 3),
        "consumer": exchange.consumer.id if exchange.consumer else None,
        "verdicts": [
            {"stage": v.stage, "action": v.action, "status": v.status, "reason": v.reason}
            for v in exchange.verdicts
        ],
    }
    if exchange.upstream_connect_seconds is not None:
        record["upstream_connect_ms"] = round(exchange.upstream_connect_seconds * 1000, 3)
    return record
