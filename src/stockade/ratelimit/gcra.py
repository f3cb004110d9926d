"""The generic cell rate algorithm (GCRA), shared by the in-process and Redis stores.

Each window of ``requests`` per ``period`` admits one request every
``interval = period / requests`` on average and up to ``burst`` at once. Its
whole state is one number, the theoretical arrival time (TAT): the time at
which the window would be full again. A request at ``now`` is admitted when
``TAT - now <= (burst - 1) * interval`` and then moves TAT one interval on.
The decision is exact, with no fixed window boundaries: over any span of
``d`` seconds a window admits at most ``burst + d * requests / period``.

Several windows decide together, and a request rejected by any of them
changes none, so rejected requests consume no quota. Times are in
microseconds; the Redis script repeats this arithmetic in Lua.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

MICROSECONDS = 1_000_000


@dataclass(frozen=True, slots=True)
class WindowSpec:
    name: str  # "<limit id>-<window index>", the policy name in RateLimit fields
    requests: int
    period_seconds: float
    burst: int
    algorithm: str = "gcra"  # or "sliding_log"; all windows of one decision use the same

    @property
    def interval_us(self) -> float:
        return self.period_seconds * MICROSECONDS / self.requests

    @property
    def tolerance_us(self) -> float:
        return self.interval_us * (self.burst - 1)


@dataclass(frozen=True, slots=True)
class WindowState:
    remaining: int
    reset_seconds: float  # until the window is full again


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    retry_after_seconds: float  # 0 when allowed
    windows: tuple[WindowState, ...]


def decide(
    now_us: float, tats: Sequence[float | None], windows: Sequence[WindowSpec]
) -> tuple[Decision, list[float]]:
    """Return the decision and the TATs to store (unchanged when rejected)."""
    current = [max(tat if tat is not None else now_us, now_us) for tat in tats]
    retry_us = 0.0
    for tat, window in zip(current, windows, strict=True):
        wait = tat - window.tolerance_us - now_us
        retry_us = max(retry_us, wait)
    if retry_us > 0:
        pairs = zip(current, windows, strict=True)
        states = tuple(_state(now_us, tat, window) for tat, window in pairs)
        return Decision(False, retry_us / MICROSECONDS, states), list(current)
    new = [tat + window.interval_us for tat, window in zip(current, windows, strict=True)]
    states = tuple(_state(now_us, tat, window) for tat, window in zip(new, windows, strict=True))
    return Decision(True, 0.0, states), new


def _state(now_us: float, tat: float, window: WindowSpec) -> WindowState:
    # Requests still admissible now: one, plus each whole interval left within the tolerance.
    room = (now_us + window.tolerance_us - tat) / window.interval_us
    remaining = max(0, math.floor(room) + 1)
    return WindowState(min(remaining, window.burst), max(0.0, (tat - now_us) / MICROSECONDS))


def state_from_reset(reset_us: float, window: WindowSpec) -> WindowState:
    """Rebuild a window's state from ``TAT - now``, as the Redis script returns it."""
    return _state(0.0, max(0.0, reset_us), window)
