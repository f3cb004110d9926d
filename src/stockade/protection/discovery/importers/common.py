"""Shared pieces of the importers: issues with positions, defaults and the report."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

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
