"""Time-based confirmation: a delay that follows the requested length, repeatedly.

A probe counts only when the payload asking for ``d`` seconds is slow, the
same payload asking for 0 seconds is fast, asking for ``2d`` takes at
least about ``2d``, and ``d`` is slow once more. A slow target or a
one-off stall fails one of these steps.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from stockade.scanner.client import Reply

BASELINE_SAMPLES = 3
DELAY_SHARE_REQUIRED = 0.8
"""Share of the requested delay a delayed response must add over the baseline."""

CONTROL_SHARE_ALLOWED = 0.5
"""Share of the delay a zero-delay control may add before the probe is discarded."""

CONFIRM_ATTEMPTS = 2
"""Times the sequence runs after a delayed first probe, so one stall of a busy host is forgiven."""

MAX_BASELINE_SECONDS = 2.0
"""Operations slower than this without a payload are not timed: the noise would hide a delay."""


async def baseline(send: Callable[[], Awaitable[Reply]]) -> float:
    """Return the slowest elapsed time of a few unmodified requests."""
    return max([(await send()).elapsed for _ in range(BASELINE_SAMPLES)])


async def confirm_delay(send: Callable[[float], Awaitable[Reply]], base: float,
                        delay: float) -> list[Reply] | None:
    """Return the four replies that confirm a controllable delay, or None."""
    for _ in range(CONFIRM_ATTEMPTS):
        first = await send(delay)
        if first.elapsed < base + DELAY_SHARE_REQUIRED * delay:
            return None  # not delayed at all: no reason to try again
        replies = await _confirm_sequence(send, base, delay, first)
        if replies is not None:
            return replies
    return None


async def _confirm_sequence(send: Callable[[float], Awaitable[Reply]], base: float,
                            delay: float, first: Reply) -> list[Reply] | None:
    control = await send(0.0)
    if control.elapsed >= base + CONTROL_SHARE_ALLOWED * delay:
        return None
    double = await send(2 * delay)
    if double.elapsed < base + 2 * DELAY_SHARE_REQUIRED * delay:
        return None
    again = await send(delay)
    if again.elapsed < base + DELAY_SHARE_REQUIRED * delay:
        return None
    return [first, control, double, again]
