from __future__ import annotations

from pathlib import Path

import pytest

from stockade.events import spool as spool_module
from stockade.events.spool import DiskSpool, SpoolSlot


def _lines(start: int, count: int) -> list[bytes]:
    return [f'{{"n":{n}}}\n'.encode() for n in range(start, start + count)]


def test_read_commit_in_order(tmp_path: Path) -> None:
    spool = DiskSpool(tmp_path, max_bytes=1 << 20)
    spool.append(_lines(0, 5))
    batch = spool.read(3)
    assert batch.lines == _lines(0, 3)
    assert spool.read(3).lines == _lines(0, 3)  # nothing moves before commit
    spool.commit(batch.end)
    assert spool.read(10).lines == _lines(3, 2)
    spool.commit(spool.read(10).end)
    assert spool.read(10).lines == []
    assert spool.pending_bytes == 0


def test_survives_restart(tmp_path: Path) -> None:
    spool = DiskSpool(tmp_path, max_bytes=1 << 20)
    spool.append(_lines(0, 4))
    spool.commit(spool.read(1).end)
    spool.close()
    reopened = DiskSpool(tmp_path, max_bytes=1 << 20)
    assert reopened.read(10).lines == _lines(1, 3)
    reopened.append(_lines(4, 1))
    assert reopened.read(10).lines == _lines(1, 4)
    assert reopened.pending_bytes == sum(len(line) for line in _lines(1, 4))


def test_partial_line_after_crash_skipped(tmp_path: Path) -> None:
    spool = DiskSpool(tmp_path, max_bytes=1 << 20)
    spool.append(_lines(0, 2))
    spool.close()
    segment = next(tmp_path.glob("*.jsonl"))
    with segment.open("ab") as file:
        file.write(b'{"n":9')  # a write cut short by a crash
    reopened = DiskSpool(tmp_path, max_bytes=1 << 20)
    reopened.append(_lines(2, 1))
    first = reopened.read(10)
    assert first.lines == _lines(0, 3)
    reopened.commit(first.end)
    assert reopened.read(10).lines == []
    assert list(tmp_path.glob("*.jsonl")) == [tmp_path / f"{first.end.segment:012d}.jsonl"]


def test_full_spool_drops_and_counts(tmp_path: Path) -> None:
    lines = _lines(0, 10)
    spool = DiskSpool(tmp_path, max_bytes=len(lines[0]) * 4)
    assert spool.append(lines) == 6
    assert spool.dropped == 6
    spool.commit(spool.read(2).end)
    assert spool.append(_lines(4, 3)) == 1  # two fit in the space the commit freed


def test_segments_roll_and_are_deleted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(spool_module, "SEGMENT_MAX_BYTES", 20)
    spool = DiskSpool(tmp_path, max_bytes=1 << 20)
    for start in range(0, 6, 2):
        spool.append(_lines(start, 2))
    assert len(list(tmp_path.glob("*.jsonl"))) == 3
    batch = spool.read(5)
    assert batch.lines == _lines(0, 5)
    spool.commit(batch.end)
    assert len(list(tmp_path.glob("*.jsonl"))) == 1
    assert spool.read(5).lines == _lines(5, 1)


def test_unreadable_cursor_starts_over(tmp_path: Path) -> None:
    spool = DiskSpool(tmp_path, max_bytes=1 << 20)
    spool.append(_lines(0, 2))
    spool.commit(spool.read(1).end)
    spool.close()
    (tmp_path / "cursor.json").write_text("garbage")
    assert DiskSpool(tmp_path, max_bytes=1 << 20).read(10).lines == _lines(0, 2)


def test_slots_exclusive_per_process(tmp_path: Path) -> None:
    first = SpoolSlot(tmp_path)
    second = SpoolSlot(tmp_path)
    assert first.directory == tmp_path / "slot-0"
    assert second.directory == tmp_path / "slot-1"
    first.release()
    third = SpoolSlot(tmp_path)
    assert third.directory == tmp_path / "slot-0"
    second.release()
    third.release()
