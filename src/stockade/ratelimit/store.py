"""Rate limit stores: where the TAT of each counted key lives.

``MemoryStore`` keeps them in the worker process, so with N workers each
worker counts on its own and a client may get up to N times the limit.
``RedisStore`` (in ``redis_store``) shares them across processes and nodes.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Protocol

from stockade.ratelimit.gcra import Decision, WindowSpec, decide

log = logging.getLogger(__name__)

MAX_MEMORY_KEYS = 200_000  # TATs kept per worker; about 30 MiB at this size
SWEEP_EVERY_DECISIONS = 10_000  # decisions between sweeps of expired keys


class StoreUnavailable(Exception):
    """The store could not be asked; the stage applies on_store_error."""


class RateLimitStore(Protocol):
    async def decide(self, keys: Sequence[str], windows: Sequence[WindowSpec]) -> Decision:
        """Decide one request against every window at once; ``keys[i]`` counts ``windows[i]``."""
        ...


class MemoryStore:
    """TATs in a dict of this worker process."""

    def __init__(self, max_keys: int = MAX_MEMORY_KEYS) -> None:
        self._tats: dict[str, float] = {}
        self._max_keys = max_keys
        self._until_sweep = SWEEP_EVERY_DECISIONS
        self.evicted = 0  # keys dropped while still counting, because the store was full

    async def decide(self, keys: Sequence[str], windows: Sequence[WindowSpec]) -> Decision:
        now = time.monotonic_ns() / 1000
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

    def _sweep(self, now: float) -> None:
        """Drop keys whose TAT has passed: an absent key behaves the same."""
        self._until_sweep = SWEEP_EVERY_DECISIONS
        for key in [key for key, tat in self._tats.items() if tat <= now]:
            del self._tats[key]
        excess = len(self._tats) - self._max_keys
        if excess > 0:
            for key in list(self._tats)[:excess]:
                del self._tats[key]
            self.evicted += excess
            log.warning(
                "rate limit memory store full: dropped %s counting keys (max %s); "
                "those clients start afresh",
                excess,
                self._max_keys,
            )
