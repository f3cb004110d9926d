"""Offline import: HAR files and access logs become observations.

Every reader yields the observations it could read and reports each
problem as an ``ImportIssue`` with the file, the line or byte position and
what was wrong, then goes on with the rest of the file.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from pathlib import Path

from stockade.protection.discovery.analysis import Observation
from stockade.protection.discovery.importers.common import (
    ImportDefaults,
    ImportIssue,
    ImportReport,
    ProgressCallback,
    is_gzip,
)
from stockade.protection.discovery.importers.har import read_har
from stockade.protection.discovery.importers.logs import read_log

__all__ = ["ImportDefaults", "ImportIssue", "ImportReport", "detect_format", "read_file"]

DETECT_BYTES = 4096
"""Bytes from the start of a file that decide its format."""


def detect_format(path: Path) -> str:
    """Return 'har', 'jsonl' or 'combined' from the file's name and first bytes."""
    name = path.name.lower().removesuffix(".gz")
    if name.endswith(".har"):
        return "har"
    opener = gzip.open if is_gzip(path) else open
    with opener(path, "rb") as stream:
        head = stream.read(DETECT_BYTES)
    text = head.lstrip()
    if not text.startswith(b"{"):
        return "combined"
    first_line = text.split(b"\n", 1)[0]
    if b'"log"' in first_line[:64] or (b"\n" in text and first_line.strip() == b"{"):
        return "har"
    return "jsonl"


def read_file(
    path: Path,
    report: ImportReport,
    defaults: ImportDefaults,
    progress: ProgressCallback | None = None,
    file_format: str | None = None,
) -> Iterator[Observation]:
    """Yield the observations of one file in any supported format."""
    kind = file_format or detect_format(path)
    if kind == "har":
        yield from read_har(path, report, defaults, progress)
    else:
        yield from read_log(path, report, defaults, progress)
