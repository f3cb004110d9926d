from __future__ import annotations

import asyncio

import pytest

from stockade import tasks
from stockade.tasks import stop_task


async def test_stop_task_repeats_lost_cancellation(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tasks, "RECANCEL_SECONDS", 0.05)
    cancellations = 0

    async def loses_the_first_cancellation() -> None:
        nonlocal cancellations
        while True:
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                cancellations += 1
                if cancellations > 1:
                    raise

    task = asyncio.create_task(loses_the_first_cancellation())
    await asyncio.sleep(0)
    async with asyncio.timeout(10):
        await stop_task(task)
    assert task.cancelled()
    assert cancellations == 2


async def test_stop_task_caller_stays_cancellable() -> None:
    release = asyncio.Event()

    async def ignores_cancellation() -> None:
        while not release.is_set():
            try:
                await release.wait()
            except asyncio.CancelledError:
                pass

    stubborn = asyncio.create_task(ignores_cancellation())
    await asyncio.sleep(0)
    caller = asyncio.create_task(stop_task(stubborn))
    await asyncio.sleep(0.05)
    caller.cancel()
    with pytest.raises(asyncio.CancelledError):
        await caller
    release.set()
    await stubborn


async def test_stop_task_logs_task_failure(caplog: pytest.LogCaptureFixture) -> None:
    async def fails() -> None:
        raise RuntimeError("disk full")

    task = asyncio.create_task(fails(), name="spool-writer")
    await asyncio.sleep(0)
    await stop_task(task)
    assert "spool-writer failed" in caplog.text
    assert "disk full" in caplog.text
