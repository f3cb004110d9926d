"""A disk spool per sink: events wait here until the sink has taken them.

The spool is a directory of append-only segment files of JSON lines and a
cursor file naming the first event not yet delivered. Appending writes and
flushes to the operating system, so a restarted process finds every
appended event. The cursor moves only after a delivery succeeded, so an
event is delivered at least once. A process always appends to a new
segment, so a line cut short by a crash is never followed by good lines
in the same file.

NOTE: when fewer processes run than before, events left in the extra
slots wait until a process claims those slots again.

NOTE: appends are flushed, not fsynced: a process crash loses nothing, a
power loss can lose the last events written.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from stockade.config.base import MIB

log = logging.getLogger(__name__)

SEGMENT_MAX_BYTES = 8 * MIB
"""Size at which appends move to a new segment, so delivered segments can be deleted."""

CURSOR_FILE = "cursor.json"
LOCK_FILE = "lock"

MAX_SLOTS = 1024
"""Maximum number of processes that spool for one sink on one host at the same time."""
SEGMENT_SUFFIX = ".jsonl"


@dataclass(frozen=True, slots=True, order=True)
class Position:
    segment: int
    offset: int


@dataclass(frozen=True, slots=True)
class SpoolBatch:
    lines: list[bytes]
    end: Position  # commit this once the lines are delivered


class DiskSpool:
    """Segmented JSON-lines queue in ``directory``; one process uses it at a time."""

    def __init__(self, directory: Path, max_bytes: int) -> None:
        self.directory = directory
        self.max_bytes = max_bytes
        directory.mkdir(parents=True, exist_ok=True)
        self._cursor = self._read_cursor()
        segments = self._segments()
        self._tail = max([*segments, self._cursor.segment]) + 1
        self._tail_size = 0
        self._tail_file: BinaryIO | None = None
        self._bytes = self._measure()
        self.dropped = 0

    # --- appending -----------------------------------------------------------

    def append(self, lines: list[bytes]) -> int:
        """Append lines; return how many were dropped because the spool is full."""
        accepted: list[bytes] = []
        for line in lines:
            if self._bytes + len(line) > self.max_bytes:
                break
            accepted.append(line)
            self._bytes += len(line)
        dropped = len(lines) - len(accepted)
        if dropped:
            self.dropped += dropped
        if not accepted:
            return dropped
        data = b"".join(accepted)
        if self._tail_file is None or self._tail_size + len(data) > SEGMENT_MAX_BYTES:
            self._open_new_segment()
        assert self._tail_file is not None
        self._tail_file.write(data)
        self._tail_file.flush()
        self._tail_size += len(data)
        return dropped

    def _open_new_segment(self) -> None:
        if self._tail_file is not None:
            self._tail_file.close()
            self._tail += 1
        path = self._segment_path(self._tail)
        self._tail_file = path.open("ab")
        self._tail_size = 0

    # --- reading -------------------------------------------------------------

    def read(self, max_lines: int) -> SpoolBatch:
        """Return up to ``max_lines`` undelivered lines from the cursor on."""
        position = self._cursor
        lines: list[bytes] = []
        for segment in self._segments():
            if segment < position.segment:
                continue
            offset = position.offset if segment == position.segment else 0
            path = self._segment_path(segment)
            with path.open("rb") as file:
                file.seek(offset)
                while len(lines) < max_lines:
                    line = file.readline()
                    if not line.endswith(b"\n"):
                        break  # end of file, or a line still being written or cut by a crash
                    lines.append(line)
                    offset += len(line)
            position = Position(segment, offset)
            if len(lines) >= max_lines or segment == self._tail:
                break
        return SpoolBatch(lines, position)

    def commit(self, end: Position) -> None:
        """Mark everything before ``end`` delivered and delete finished segments."""
        if end <= self._cursor:
            return
        self._bytes -= self._span_bytes(self._cursor, end)
        self._cursor = end
        self._write_cursor()
        for segment in self._segments():
            if segment < end.segment:
                self._segment_path(segment).unlink(missing_ok=True)

    @property
    def pending_bytes(self) -> int:
        return self._bytes

    def close(self) -> None:
        if self._tail_file is not None:
            self._tail_file.close()
            self._tail_file = None

    # --- files ---------------------------------------------------------------

    def _segment_path(self, segment: int) -> Path:
        return self.directory / f"{segment:012d}{SEGMENT_SUFFIX}"

    def _segments(self) -> list[int]:
        found = []
        for path in self.directory.glob(f"*{SEGMENT_SUFFIX}"):
            if path.stem.isdigit():
                found.append(int(path.stem))
        return sorted(found)

    def _size(self, segment: int) -> int:
        try:
            return self._segment_path(segment).stat().st_size
        except FileNotFoundError:
            return 0

    def _span_bytes(self, start: Position, end: Position) -> int:
        total = 0
        for segment in self._segments():
            if start.segment <= segment <= end.segment:
                first = start.offset if segment == start.segment else 0
                last = end.offset if segment == end.segment else self._size(segment)
                total += max(0, last - first)
        return total

    def _measure(self) -> int:
        total = 0
        for segment in self._segments():
            if segment > self._cursor.segment:
                total += self._size(segment)
            elif segment == self._cursor.segment:
                total += max(0, self._size(segment) - self._cursor.offset)
        return total

    def _read_cursor(self) -> Position:
        path = self.directory / CURSOR_FILE
        try:
            data = json.loads(path.read_text())
            return Position(int(data["segment"]), int(data["offset"]))
        except FileNotFoundError:
            return Position(0, 0)
        except (ValueError, KeyError, TypeError) as exc:
            # Starting over from the oldest segment repeats events but loses none.
            log.error("spool cursor %s is unreadable (%s); delivering from the oldest segment",
                      path, exc)
            return Position(0, 0)

    def _write_cursor(self) -> None:
        path = self.directory / CURSOR_FILE
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps({"segment": self._cursor.segment,
                                         "offset": self._cursor.offset}))
        os.replace(temporary, path)


class SpoolSlot:
    """An exclusive claim on one spool directory, held with a lock file.

    Each worker process of a gateway runs its own pipeline, so each sink gets
    one spool directory per process: ``BASE/slot-N``. A process claims the
    lowest free slot and the operating system releases the claim when the
    process exits, so a restarted worker takes over a slot and delivers what
    was left in it.
    """

    def __init__(self, base: Path) -> None:
        base.mkdir(parents=True, exist_ok=True)
        for number in range(MAX_SLOTS):
            directory = base / f"slot-{number}"
            directory.mkdir(exist_ok=True)
            handle = (directory / LOCK_FILE).open("a")
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.close()
                continue
            self.directory = directory
            self._handle = handle
            return
        raise RuntimeError(f"all {MAX_SLOTS} spool slots under {base} are in use; "
                           "stop other processes that spool there")

    def release(self) -> None:
        fcntl.flock(self._handle.fileno(), fcntl.LOCK_UN)
        self._handle.close()
