"""Access logs as observations: Stockade's JSON lines, nginx JSON and nginx combined.

Each line is read on its own, so a bad line is reported with its number and
byte offset and the next line is read as usual. The format is decided per
line: a JSON object is Stockade's when it has ``tenant`` and ``service``
and nginx's otherwise; any other line must be in the combined format
(``$remote_addr - $remote_user [$time_local] "$request" $status ...``).
Parsing is hand-written: log lines carry client-chosen paths.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from stockade.protection.discovery.analysis import Observation
from stockade.protection.discovery.importers.common import (
    ImportDefaults,
    ImportIssue,
    ImportReport,
    ProgressCallback,
    is_gzip,
    iter_lines,
)

MAX_LINE_BYTES = 1024 * 1024
"""Longer lines are reported and skipped rather than parsed."""

_MONTHS = {
    name: index
    for index, name in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
        start=1,
    )
}


class LineError(ValueError):
    """A log line that cannot be read; the message states what is wrong with it."""


def parse_common_time(text: str) -> float:
    """Parse nginx's $time_local, e.g. ``10/Oct/2024:13:55:36 +0200``, to epoch seconds."""
    if len(text) != 26 or text[2] != "/" or text[6] != "/" or text[11] != ":" or text[20] != " ":
        raise LineError(f"time {text!r} is not in the form 10/Oct/2024:13:55:36 +0200")
    try:
        day, month, year = int(text[0:2]), _MONTHS[text[3:6]], int(text[7:11])
        hour, minute, second = int(text[12:14]), int(text[15:17]), int(text[18:20])
        sign = 1 if text[21] == "+" else -1
        offset = timedelta(hours=int(text[22:24]), minutes=int(text[24:26])) * sign
        return datetime(year, month, day, hour, minute, second, tzinfo=timezone(offset)).timestamp()
    except (KeyError, ValueError) as error:
        raise LineError(f"time {text!r} is invalid: {error}") from error


def _split_request(request: str) -> tuple[str, str]:
    """Split a request line ``GET /path?q HTTP/1.1`` into method and target."""
    parts = request.split(" ")
    if len(parts) != 3 or not parts[0].isalpha() or not parts[1]:
        raise LineError(f"request {request[:80]!r} is not 'METHOD target HTTP/version'")
    return parts[0].upper(), parts[1]


def _quoted(line: str, start: int) -> tuple[str, int]:
    """Read a double-quoted field starting at ``line[start]``; return it and the index after it."""
    if start >= len(line) or line[start] != '"':
        raise LineError(f"expected a quoted field at column {start + 1}")
    out: list[str] = []
    index = start + 1
    while index < len(line):
        char = line[index]
        if char == "\\" and index + 1 < len(line):
            out.append(line[index + 1])
            index += 2
            continue
        if char == '"':
            return "".join(out), index + 1
        out.append(char)
        index += 1
    raise LineError("a quoted field is not closed (truncated line?)")


def parse_combined(line: str, defaults: ImportDefaults) -> Observation:
    """Parse one line of nginx's combined (or common) format."""
    open_bracket = line.find(" [")
    close_bracket = line.find("] ", open_bracket)
    if open_bracket < 0 or close_bracket < 0:
        raise LineError("no [time] field; expected nginx combined format")
    timestamp = parse_common_time(line[open_bracket + 2 : close_bracket])
    request, index = _quoted(line, close_bracket + 2)
    method, target = _split_request(request)
    rest = line[index:].split(" ", 3)
    if len(rest) < 3 or not rest[1].isdigit():
        raise LineError("status after the request is missing or not a number")
    return Observation(
        tenant=defaults.tenant,
        service=defaults.service or "default",
        method=method,
        target=target,
        status=int(rest[1]),
        time=timestamp,
    )


def _number(value: Any, name: str) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            pass
    raise LineError(f"{name} {value!r} is not a number")


def _json_time(record: dict[str, Any]) -> float:
    if "time" in record:
        return _number(record["time"], "time")
    if "msec" in record:
        return _number(record["msec"], "msec")
    if "time_iso8601" in record:
        try:
            return datetime.fromisoformat(str(record["time_iso8601"])).timestamp()
        except ValueError as error:
            raise LineError(f"time_iso8601 {record['time_iso8601']!r} is invalid") from error
    if "time_local" in record:
        return parse_common_time(str(record["time_local"]))
    return 0.0


def parse_stockade(record: dict[str, Any]) -> Observation | None:
    """Read a line of Stockade's access log; None for exchanges that never reached the upstream."""
    for name in ("method", "path", "status"):
        if name not in record:
            raise LineError(f"required key {name!r} is missing")
    if any(
        isinstance(verdict, dict) and verdict.get("action") == "reject"
        for verdict in record.get("verdicts") or []
    ):
        return None
    return Observation(
        tenant=str(record["tenant"]),
        service=str(record["service"]),
        method=str(record["method"]).upper(),
        target=str(record["path"]),
        status=int(_number(record["status"], "status")),
        time=_json_time(record),
        host=str(record.get("host") or ""),
        request_id=record.get("request_id"),
    )


def parse_nginx_json(record: dict[str, Any], defaults: ImportDefaults) -> Observation:
    """Read a line of an nginx ``log_format ... escape=json`` log with the usual variable names."""
    if "request_method" in record and ("request_uri" in record or "uri" in record):
        method = str(record["request_method"]).upper()
        target = str(record.get("request_uri") or record["uri"])
        if "request_uri" not in record and record.get("args"):
            target += f"?{record['args']}"
    elif "request" in record:
        method, target = _split_request(str(record["request"]))
    else:
        raise LineError("neither request_method with request_uri nor request is present")
    if "status" not in record:
        raise LineError("required key 'status' is missing")
    host = str(record.get("host") or record.get("http_host") or record.get("server_name") or "")
    host = host.partition(":")[0].lower()
    return Observation(
        tenant=defaults.tenant,
        service=defaults.service or host or "default",
        method=method,
        target=target,
        status=int(_number(record["status"], "status")),
        time=_json_time(record),
        host=host,
        request_id=record.get("request_id") or None,
        request_type=record.get("content_type") or None,
        response_type=record.get("sent_http_content_type") or None,
    )


def parse_line(line: str, defaults: ImportDefaults) -> Observation | None:
    """Parse one log line in any supported format; None for records that are not API traffic."""
    if line.startswith("{"):
        try:
            record = json.loads(line)
        except (json.JSONDecodeError, RecursionError) as error:
            column = getattr(error, "colno", None)
            raise LineError(
                f"invalid JSON{f' at column {column}' if column else ''} (truncated line?)"
            ) from error
        if not isinstance(record, dict):
            raise LineError("a JSON log line must be an object")
        if "tenant" in record and "service" in record:
            return parse_stockade(record)
        return parse_nginx_json(record, defaults)
    return parse_combined(line, defaults)


def read_log(
    path: Path,
    report: ImportReport,
    defaults: ImportDefaults,
    progress: ProgressCallback | None = None,
) -> Iterator[Observation]:
    """Yield the observations of a log file; each bad line goes to ``report.issues``."""
    offset = 0
    for number, raw in enumerate(iter_lines(path, report), start=1):
        start = offset
        offset += len(raw)
        if progress is not None and number % 1024 == 0 and not is_gzip(path):
            progress(offset)  # gzip offsets count uncompressed bytes, not the file's
        if len(raw) > MAX_LINE_BYTES:
            report.issues.append(
                ImportIssue(
                    str(path), f"line longer than {MAX_LINE_BYTES} bytes", number, byte=start
                )
            )
            continue
        try:
            line = raw.decode("utf-8").strip()
        except UnicodeDecodeError as error:
            report.issues.append(
                ImportIssue(str(path), "not UTF-8 text", number, byte=start + error.start)
            )
            continue
        if not line:
            continue
        try:
            observation = parse_line(line, defaults)
        except (LineError, ValueError, TypeError) as error:
            report.issues.append(ImportIssue(str(path), str(error), number, byte=start))
            continue
        if observation is None or observation.status == 404:
            report.skipped += 1
            continue
        report.records += 1
        yield observation
    if progress is not None:
        progress(path.stat().st_size if is_gzip(path) else offset)
