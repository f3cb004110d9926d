"""Stopping background tasks reliably."""

from __future__ import annotations

import asyncio
import logging

log = logging.getLogger(__name__)

RECANCEL_SECONDS = 1.0


async def stop_task(task: asyncio.Task[None]) -> None:
    """Cancel ``task`` and wait until it has ended, cancelling again every second.

    Before Python 3.12, ``asyncio.wait_for`` can lose a cancellation that
    arrives just as the awaited call completes (CPython issue gh-86296), so a
    looping task may carry on. Cancelling the caller still cancels the caller.
    A failure of the task is logged, not raised.
    """
    while not task.done():
        task.cancel()
        await asyncio.wait({task}, timeout=RECANCEL_SECONDS)
    if task.cancelled():
        return
    error = task.exception()
    if error is not None:
        log.error("background task %s failed: %r", task.get_name(), error, exc_info=error)
