"""The sliding window log: at most ``requests`` admitted in any span of ``period`` seconds.

Each window keeps the times of the requests it admitted during the last
period. A request is admitted when every window contains fewer than its
``requests`` times, and is then recorded in all of them; a rejected request
is recorded nowhere. Unlike GCRA there is no burst and refill: the count is
exact over every span, at the cost of one stored time per admitted request.
The Redis store runs the same logic in Lua on sorted sets.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence

from stockade.ratelimit.gcra import MICROSECONDS, Decision, WindowSpec, WindowState


def prune(log: deque[float], now_us: float, window: WindowSpec) -> None:
    """Drop the times that have left the window."""
    horizon = now_us - window.period_seconds * MICROSECONDS
    while log and log[0] <= horizon:
        log.popleft()


def decide_log(
    now_us: float, logs: Sequence[deque[float]], windows: Sequence[WindowSpec]
) -> Decision:
    """Decide and, when admitted, append ``now_us`` to every log (the logs are pruned first)."""
    retry_us = 0.0
    blocked = False
    for log, window in zip(logs, windows, strict=True):
        prune(log, now_us, window)
        if len(log) >= window.requests:
            blocked = True
            # The request fits once enough of the oldest times have left the window.
            frees_at = log[len(log) - window.requests] + window.period_seconds * MICROSECONDS
            retry_us = max(retry_us, frees_at - now_us)
    if not blocked:
        for log in logs:
            log.append(now_us)
    states = tuple(_state(now_us, log, window) for log, window in zip(logs, windows, strict=True))
    return Decision(not blocked, retry_us / MICROSECONDS, states)


def state_of(count: int, newest_age_us: float | None, window: WindowSpec) -> WindowState:
    """Build a window's state from its count and the age of its newest time, as Redis sends them."""
    period_us = window.period_seconds * MICROSECONDS
    reset_us = period_us - newest_age_us if newest_age_us is not None else 0.0
    return WindowState(max(0, window.requests - count), max(0.0, reset_us) / MICROSECONDS)


def _state(now_us: float, log: deque[float], window: WindowSpec) -> WindowState:
    return state_of(len(log), now_us - log[-1] if log else None, window)
