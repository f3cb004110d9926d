"""Rate limit stores: where the state of each counted key lives.

The state is one TAT per key for gcra and the times of admitted requests for
sliding_log.

``MemoryStore`` keeps them in the worker process, so with N workers each
worker counts on its own and a client may get up to N times the limit.
``RedisStore`` (in ``redis_store``) shares them across processes and nodes.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Sequence
from typing import Any, Protocol

from stockade.ratelimit.gcra import MICROSECONDS, Decision, WindowSpec, decide
from stockade.ratelimit.sliding_log import decide_log

log = logging.getLogger(__name__)

MAX_MEMORY_KEYS = 200_000  # keys kept per worker, for each algorithm
# 200,000 gcra keys of about 60 characters took 33 MiB (measured with tracemalloc).
# NOTE: a sliding_log key holds up to 'requests' times, so its memory grows with the
# limits as well as with the number of clients.
SWEEP_EVERY_DECISIONS = 10_000  # decisions between sweeps of expired keys


class StoreUnavailable(Exception):
    """The store could not be asked; the stage applies on_store_error."""


class RateLimitStore(Protocol):
    async def decide(self, keys: Sequence[str], windows: Sequence[WindowSpec]) -> Decision:
        """Decide one request against every window at once; ``keys[i]`` counts ``windows[i]``."""
        ...


class MemoryStore:
    """TATs (gcra) and request times (sliding_log) in dicts of this worker process."""

    def __init__(self, max_keys: int = MAX_MEMORY_KEYS) -> None:
        self._tats: dict[str, float] = {}
        self._logs: dict[str, tuple[float, deque[float]]] = {}  # key: (period in µs, times)
        self._max_keys = max_keys
        self._until_sweep = SWEEP_EVERY_DECISIONS
        self.evicted = 0  # keys dropped while still counting, because the store was full

    async def decide(self, keys: Sequence[str], windows: Sequence[WindowSpec]) -> Decision:
        now = time.monotonic_ns() / 1000
        if windows and windows[0].algorithm == "sliding_log":
            return self._decide_log(now, keys, windows)
        tats = self._tats
        decision, new = decide(now, [tats.get(key) for key in keys], windows)
        if decision.allowed:
            for key, tat in zip(keys, new, strict=True):
                tats.pop(key, None)  # re-insert so that dict order is least recently admitted first
                tats[key] = tat
            self._until_sweep -= 1
            if self._until_sweep <= 0 or len(tats) > self._max_keys:
                self._sweep(now)
        return decision

    def _decide_log(
        self, now: float, keys: Sequence[str], windows: Sequence[WindowSpec]
    ) -> Decision:
        logs = []
        for key, window in zip(keys, windows, strict=True):
            entry = self._logs.get(key)
            if entry is None:
                entry = self._logs[key] = (window.period_seconds * MICROSECONDS, deque())
            logs.append(entry[1])
        decision = decide_log(now, logs, windows)
        if decision.allowed:
            self._until_sweep -= 1
            if self._until_sweep <= 0 or len(self._logs) > self._max_keys:
                self._sweep(now)
        return decision

    def _sweep(self, now: float) -> None:
        """Drop keys whose TAT or newest time has passed: an absent key behaves the same."""
        self._until_sweep = SWEEP_EVERY_DECISIONS
        for key in [key for key, tat in self._tats.items() if tat <= now]:
            del self._tats[key]
        for key in [
            key
            for key, (period, times) in self._logs.items()
            if not times or times[-1] <= now - period
        ]:
            del self._logs[key]
        self._evict(self._logs)
        self._evict(self._tats)

    def _evict(self, table: dict[str, Any]) -> None:
        excess = len(table) - self._max_keys
        if excess > 0:
            for key in list(table)[:excess]:
                del table[key]
            self.evicted += excess
            log.warning(
                "rate limit memory store full: dropped %s counting keys (max %s); "
                "those clients start afresh",
                excess,
                self._max_keys,
            )
