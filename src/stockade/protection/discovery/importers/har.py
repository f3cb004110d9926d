"""HAR 1.2 files (browser and proxy recordings) as observations.

A valid file is parsed whole. A truncated or invalid one is reported with
the line, column and byte where parsing failed, and the entries before that
point are still read one by one from the ``entries`` array.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from stockade.protection.discovery.analysis import Observation
from stockade.protection.discovery.importers.common import (
    MAX_IMPORT_BODY_BYTES,
    ImportDefaults,
    ImportIssue,
    ImportReport,
    ProgressCallback,
    read_all,
)

_WHITESPACE = " \t\r\n"


def _position(text: str, index: int) -> tuple[int, int, int]:
    """Return (line, column, byte offset) of a character index, all for people (1-based lines)."""
    line = text.count("\n", 0, index) + 1
    column = index - (text.rfind("\n", 0, index) + 1) + 1
    return line, column, len(text[:index].encode("utf-8"))


def _issue(path: Path, text: str, index: int, message: str) -> ImportIssue:
    line, column, byte = _position(text, index)
    return ImportIssue(str(path), message, line, column, byte)


def _salvage_entries(path: Path, text: str, report: ImportReport) -> list[Any]:
    """Decode entries one at a time up to the first one that fails."""
    key = text.find('"entries"')
    start = text.find("[", key) if key >= 0 else -1
    if start < 0:
        return []
    decoder = json.JSONDecoder()
    entries: list[Any] = []
    index = start + 1
    while True:
        while index < len(text) and text[index] in _WHITESPACE:
            index += 1
        if index >= len(text) or text[index] == "]":
            return entries
        try:
            entry, index = decoder.raw_decode(text, index)
        except json.JSONDecodeError as error:
            report.issues.append(
                _issue(
                    path,
                    text,
                    error.pos,
                    f"entry {len(entries)} is truncated or invalid: {error.msg}; "
                    f"the {len(entries)} entries before it were imported",
                )
            )
            return entries
        entries.append(entry)
        while index < len(text) and text[index] in _WHITESPACE:
            index += 1
        if index < len(text) and text[index] == ",":
            index += 1


def _load_entries(path: Path, report: ImportReport) -> list[Any]:
    # NOTE: the whole file is held in memory, parsed, which takes several times
    # its size; split HAR files of several GB before importing them.
    raw = read_all(path, report)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        report.issues.append(
            ImportIssue(
                str(path), "not UTF-8 text; the rest of the file is skipped", byte=error.start
            )
        )
        text = raw[: error.start].decode("utf-8")
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        report.issues.append(_issue(path, text, error.pos, f"invalid HAR JSON: {error.msg}"))
        return _salvage_entries(path, text, report)
    entries = document.get("log", {}).get("entries") if isinstance(document, dict) else None
    if not isinstance(entries, list):
        report.issues.append(
            ImportIssue(str(path), "not a HAR file: log.entries is missing", line=1)
        )
        return []
    return entries


def _headers(items: Any) -> list[tuple[bytes, bytes]]:
    fields: list[tuple[bytes, bytes]] = []
    for item in items or []:
        if isinstance(item, dict) and "name" in item:
            name = str(item["name"])
            if name.startswith(":"):
                continue  # HTTP/2 pseudo-header fields recorded by browsers
            fields.append(
                (
                    name.encode("latin-1", "replace"),
                    str(item.get("value", "")).encode("latin-1", "replace"),
                )
            )
    return fields


def _body(text: Any, encoding: Any) -> tuple[bytes | None, bool]:
    if not isinstance(text, str) or not text:
        return None, False
    if encoding == "base64":
        try:
            data = base64.b64decode(text, validate=False)
        except (binascii.Error, ValueError):
            return None, False
    else:
        data = text.encode("utf-8")
    return data[:MAX_IMPORT_BODY_BYTES], len(data) > MAX_IMPORT_BODY_BYTES


def _time(value: Any) -> float:
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()
    except ValueError:
        return 0.0


def entry_observation(entry: Any, defaults: ImportDefaults) -> Observation:
    """Convert one HAR entry; raise ValueError naming the missing or invalid member."""
    if not isinstance(entry, dict):
        raise ValueError("entry is not an object")
    request, response = entry.get("request"), entry.get("response")
    if not isinstance(request, dict) or not isinstance(response, dict):
        raise ValueError("entry has no request or response object")
    method, url, status = request.get("method"), request.get("url"), response.get("status")
    if not isinstance(method, str) or not method or not isinstance(url, str):
        raise ValueError("request.method or request.url is missing")
    if not isinstance(status, int):
        raise ValueError(f"response.status {status!r} is not a number")
    parts = urlsplit(url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    post = request.get("postData") or {}
    content = response.get("content") or {}
    request_body, request_cut = _body(post.get("text"), None)
    response_body, response_cut = _body(content.get("text"), content.get("encoding"))
    request_fields = _headers(request.get("headers"))
    if post.get("mimeType") and not any(
        name.lower() == b"content-type" for name, _ in request_fields
    ):
        request_fields.append((b"Content-Type", str(post["mimeType"]).encode("latin-1", "replace")))
    response_fields = _headers(response.get("headers"))
    if content.get("mimeType") and not any(
        name.lower() == b"content-type" for name, _ in response_fields
    ):
        response_fields.append(
            (b"Content-Type", str(content["mimeType"]).encode("latin-1", "replace"))
        )
    host = (parts.hostname or "").lower()
    return Observation(
        tenant=defaults.tenant,
        service=defaults.service or host or "default",
        method=method.upper(),
        target=target,
        status=status,
        time=_time(entry.get("startedDateTime")),
        host=host,
        request_fields=request_fields,
        response_fields=response_fields,
        request_body=request_body,
        response_body=response_body,
        request_truncated=request_cut,
        response_truncated=response_cut,
    )


def read_har(
    path: Path,
    report: ImportReport,
    defaults: ImportDefaults,
    progress: ProgressCallback | None = None,
) -> Iterator[Observation]:
    """Yield the observations of a HAR file; problems go to ``report.issues``."""
    entries = _load_entries(path, report)
    size = path.stat().st_size
    for index, entry in enumerate(entries):
        try:
            observation = entry_observation(entry, defaults)
        except ValueError as error:
            report.issues.append(ImportIssue(str(path), f"entry {index} skipped: {error}"))
            continue
        if observation.status == 0 or observation.status == 404:
            report.skipped += 1  # 0 is a request the browser never completed
            continue
        report.records += 1
        if progress is not None:
            progress(size * (index + 1) // max(1, len(entries)))
        yield observation
    if progress is not None:
        progress(size)
