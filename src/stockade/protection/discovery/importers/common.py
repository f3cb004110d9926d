"""Shared pieces of the importers: issues with positions, defaults and the report."""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

MAX_IMPORT_BODY_BYTES = 1024 * 1024
"""Bytes of each body in a HAR file that are analyzed; longer bodies count as truncated."""

ProgressCallback = Callable[[int], None]
"""Called with the number of bytes read so far."""


@dataclass(frozen=True, slots=True)
class ImportIssue:
    file: str
    message: str
    line: int | None = None
    column: int | None = None
    byte: int | None = None

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        if self.byte is not None:
            where += f" (byte {self.byte})"
        return f"{where}: {self.message}"


@dataclass(slots=True)
class ImportDefaults:
    """Tenant and service for records that do not name their own (HAR files, nginx logs)."""

    tenant: str = "default"
    service: str | None = None  # None: the request's host name


@dataclass(slots=True)
class ImportReport:
    issues: list[ImportIssue] = field(default_factory=list)
    records: int = 0  # observations yielded
    skipped: int = 0  # valid records that are not API traffic (blocked, 404)


GZIP_WBITS = 16 + zlib.MAX_WBITS  # zlib's window bits value that selects the gzip container

GZIP_CHUNK_BYTES = 64 * 1024
"""Compressed bytes read at a time from a gzip file."""


def is_gzip(path: Path) -> bool:
    return path.suffix.lower() == ".gz"


def _gunzip_issue(path: Path, done: int) -> ImportIssue:
    return ImportIssue(
        str(path),
        f"gzip data is truncated or invalid after {done} uncompressed bytes; "
        "what came before was imported",
        byte=done,
    )


def read_all(path: Path, report: ImportReport) -> bytes:
    """Return a file's bytes, decompressing ``.gz`` files as far as their data is valid."""
    raw = path.read_bytes()
    if not is_gzip(path):
        return raw
    decompressor = zlib.decompressobj(wbits=GZIP_WBITS)
    try:
        data = decompressor.decompress(raw)
    except zlib.error:
        report.issues.append(_gunzip_issue(path, 0))
        return b""
    if not decompressor.eof:
        report.issues.append(_gunzip_issue(path, len(data)))
    return data


def iter_lines(path: Path, report: ImportReport) -> Iterator[bytes]:
    """Yield the lines of a file with their newlines, decompressing ``.gz`` files on the way."""
    if not is_gzip(path):
        with path.open("rb") as stream:
            yield from stream
        return
    decompressor = zlib.decompressobj(wbits=GZIP_WBITS)
    pending = b""
    done = 0
    with path.open("rb") as stream:
        while chunk := stream.read(GZIP_CHUNK_BYTES):
            try:
                data = decompressor.decompress(chunk)
            except zlib.error:
                break
            done += len(data)
            *lines, pending = (pending + data).split(b"\n")
            for line in lines:
                yield line + b"\n"
            if decompressor.eof:
                break
    if not decompressor.eof:
        report.issues.append(_gunzip_issue(path, done))
    if pending:
        yield pending
