"""An in-process sliding-window counter for the fixed variant's limits."""

from __future__ import annotations

import math
import threading
import time
from collections import deque

MAX_TRACKED_KEYS = 100_000
"""Keys kept at once; the oldest key is dropped past this, bounding memory."""


class SlidingWindowLimiter:
    """Counts events per key over the last ``window_seconds``.

    Endpoints run in a thread pool, so every method takes a lock.
    """

    def __init__(self, limit: int, window_seconds: float) -> None:
        self.limit = limit
        self.window_seconds = window_seconds
        self._events: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def retry_after(self, key: str) -> int:
        """Return the whole seconds until ``key`` is allowed again, 0 when it is allowed now."""
        now = time.monotonic()
        with self._lock:
            events = self._prune(key, now)
            if len(events) < self.limit:
                return 0
            return max(1, math.ceil(events[0] + self.window_seconds - now))

    def record(self, key: str) -> None:
        now = time.monotonic()
        with self._lock:
            events = self._prune(key, now)
            events.append(now)
            self._events[key] = events
            if len(self._events) > MAX_TRACKED_KEYS:
                del self._events[next(iter(self._events))]

    def _prune(self, key: str, now: float) -> deque[float]:
        events = self._events.get(key, deque())
        while events and events[0] <= now - self.window_seconds:
            events.popleft()
        return events
