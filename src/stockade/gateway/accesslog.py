"""The JSON access log: one line per exchange, written in batches off the hot path."""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from collections import deque
from json.encoder import encode_basestring_ascii
from typing import IO, Any, Final

from stockade.config.models import AccessLog as AccessLogSettings
from stockade.gateway.exchange import Exchange
from stockade.gateway.routing import RouteMatch

try:
    from stockade.gateway import _access
except ImportError:  # no compiled build: _python_line formats every line
    _access = None  # type: ignore[assignment]

log = logging.getLogger(__name__)

FLUSH_INTERVAL = 0.2
"""Seconds between flushes: lines reach the file at most this late."""

FLUSH_LINES = 128
"""Pending lines that start a flush before the timer, right after the current callbacks.

Formatting is the costly part of a flush, and no connection is served while
it runs. Under load, a 0.2 s batch of thousands of lines stalled every
connection for several milliseconds, which showed as the proxy's p99
latency. A batch of this size takes well under a millisecond."""

MAX_PENDING_LINES = 10_000
"""Lines kept while the file cannot be written; older ones are counted as dropped."""


class AccessLog:
    """Access lines of one worker, written by a timer at most ``FLUSH_INTERVAL`` late.

    ``record`` keeps only the values a line needs. The lines are formatted
    when they are flushed, all in one loop, which costs less per line than
    formatting each one between the steps of its exchange. Once
    ``FLUSH_LINES`` are pending, the flush runs as soon as the current
    callbacks end. After a failed write only the timer retries, so a full
    disk costs one failed write per interval.
    """

    def __init__(self, settings: AccessLogSettings) -> None:
        self.enabled = settings.enabled
        self.path = settings.path
        self._file: IO[str] | None = None
        # A full deque drops its oldest line at each append, without moving the others.
        self._pending: deque[_Entry] = deque(maxlen=MAX_PENDING_LINES)
        self._handle: asyncio.TimerHandle | None = None
        self._soon: asyncio.Handle | None = None
        self._failing = False
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
        pending = self._pending
        if len(pending) == pending.maxlen:
            self.dropped += 1
        pending.append(_entry(exchange))
        if self._handle is None:
            self._handle = asyncio.get_running_loop().call_later(FLUSH_INTERVAL, self._on_timer)
        elif len(pending) >= FLUSH_LINES and self._soon is None and not self._failing:
            self._soon = asyncio.get_running_loop().call_soon(self._flush_soon)

    def _on_timer(self) -> None:
        self._handle = None
        self.flush()

    def _flush_soon(self) -> None:
        self._soon = None
        self.flush()

    def flush(self) -> None:
        """Write every pending line; keep them all if the write fails."""
        if self._soon is not None:
            self._soon.cancel()
            self._soon = None
        if not self._pending or self._file is None:
            return
        text = "\n".join([_format_line(entry) for entry in self._pending]) + "\n"
        try:
            self._file.write(text)
            self._file.flush()
        except OSError as exc:
            self._failing = True
            log.error("cannot write the access log %s: %s", self.path, exc)
            return
        self._failing = False
        self._pending.clear()

    def close(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
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


def access_line(exchange: Exchange) -> str:
    """Return the JSON text of ``access_record(exchange)``, exactly as json.dumps writes it.

    The line is one %-format of its parts, because json.dumps with separators
    builds a dict and an encoder per line and took twice as long in a
    micro-benchmark. Strings go through the json module's own C escaper and
    floats through repr, as json.dumps does, so the text is the same.
    """
    return _format_line(_entry(exchange))


_Entry = tuple[Any, ...]
"""The values of one access line, in the order ``_format_line`` reads them."""


def _entry(exchange: Exchange) -> _Entry:
    """Return the values of the access line of ``exchange``, taken when it has finished."""
    request = exchange.request
    consumer = exchange.consumer
    return (
        exchange.started_wall,
        exchange.request_id,
        exchange.match,
        exchange.client.address,
        request.method,
        request.authority,
        request.target,
        exchange.status,
        exchange.request_bytes,
        exchange.response_bytes,
        exchange.duration,
        exchange.upstream_target,
        exchange.upstream_seconds,
        None if consumer is None else consumer.id,
        _verdicts_json(exchange) if exchange.verdicts else "[]",
        exchange.upstream_connect_seconds,
    )


def _format_line(entry: _Entry) -> str:
    match = entry[2]
    route = _NO_ROUTE_JSON if match is None else _route_json(match)
    if _access is not None:
        line = _access.format_line(entry, route)
        if line is not None:
            return line
    return _python_line(entry, route)


def _python_line(entry: _Entry, route: str) -> str:
    """Return the access line of ``entry``; ``route`` is its tenant, service and route members."""
    (
        started_wall,
        request_id,
        _,
        client,
        method,
        authority,
        target,
        status,
        bytes_in,
        bytes_out,
        duration,
        upstream_target,
        upstream_seconds,
        consumer_id,
        verdicts,
        connect_seconds,
    ) = entry
    method_json = _METHOD_JSON.get(method)
    if method_json is None:
        method_json = encode_basestring_ascii(method.decode("latin-1"))
    line = _LINE_FORMAT % (
        _milli_text(started_wall),
        encode_basestring_ascii(request_id),
        route,
        encode_basestring_ascii(client),
        method_json,
        encode_basestring_ascii(authority.decode("latin-1")),
        encode_basestring_ascii(target.decode("latin-1")),
        status,
        bytes_in,
        bytes_out,
        _milli_text(duration * 1000),
        _json_text(upstream_target),
        "null" if upstream_seconds is None else _milli_text(upstream_seconds * 1000),
        "null" if consumer_id is None else encode_basestring_ascii(consumer_id),
        verdicts,
    )
    if connect_seconds is not None:
        return f'{line},"upstream_connect_ms":{_milli_text(connect_seconds * 1000)}}}'
    return line + "}"


MILLI_TEXT_LIMIT: Final = 1e12
"""Magnitude below which ``_milli_text`` formats a value itself.

With three decimals such a value has at most 15 significant digits, which
a double keeps exactly, so the shortest text that reads back as the
rounded float is the fixed-point text without its trailing zeros."""


def _milli_text(value: float) -> str:
    """Return ``repr(round(value, 3))``, the text json.dumps writes for the rounded value.

    ``round`` and ``repr`` each convert the float to decimal, and one
    conversion costs less.
    """
    if not -MILLI_TEXT_LIMIT < value < MILLI_TEXT_LIMIT:
        return repr(round(value, 3))  # beyond the limit, and NaN, which fails both tests
    text = f"{value:.3f}"
    if text[-1] != "0":
        return text
    text = text.rstrip("0")
    return text + "0" if text[-1] == "." else text


_LINE_FORMAT: Final = (
    '{"time":%s,"request_id":%s,%s,"client":%s,"method":%s,"host":%s,"path":%s,'
    '"status":%d,"bytes_in":%d,"bytes_out":%d,"duration_ms":%s,"upstream":%s,'
    '"upstream_ms":%s,"consumer":%s,"verdicts":%s'
)
"""An access line without its optional last field and closing brace."""

_NO_ROUTE_JSON: Final = '"tenant":null,"service":null,"route":null'

_METHOD_JSON: Final = {
    method: encode_basestring_ascii(method.decode("ascii"))
    for method in (b"GET", b"HEAD", b"POST", b"PUT", b"PATCH", b"DELETE", b"OPTIONS")
}


def _route_json(match: RouteMatch) -> str:
    """Return the tenant, service and route members of an access line."""
    key = (match.tenant.id, match.service.id, match.route.id)
    text = _ROUTE_JSON.get(key)
    if text is None:
        if len(_ROUTE_JSON) >= ROUTE_JSON_CACHE_SIZE:
            _ROUTE_JSON.clear()
        text = _ROUTE_JSON[key] = (
            f'"tenant":{encode_basestring_ascii(key[0])},'
            f'"service":{encode_basestring_ascii(key[1])},'
            f'"route":{encode_basestring_ascii(key[2])}'
        )
    return text


ROUTE_JSON_CACHE_SIZE = 4096
"""Distinct (tenant, service, route) members kept formatted; the cache restarts when full."""

_ROUTE_JSON: Final[dict[tuple[str, str, str], str]] = {}


def _json_text(value: str | None) -> str:
    return "null" if value is None else encode_basestring_ascii(value)


def _verdicts_json(exchange: Exchange) -> str:
    verdicts = [
        {"stage": v.stage, "action": v.action, "status": v.status, "reason": v.reason}
        for v in exchange.verdicts
    ]
    return json.dumps(verdicts, separators=(",", ":"))
