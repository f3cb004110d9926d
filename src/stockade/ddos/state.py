"""What a worker sends to the shared store at each bucket close, and what it gets back.

Without a shared store each worker judges its own traffic. With Redis
(``state_redis``) every worker adds its closed bucket to cluster-wide
totals and reads back the window over all nodes, whether any node saw a
surge signal lately, and which of its queried sources some node has seen.
Requests never wait for this exchange: it runs as a task once per bucket.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from stockade.ddos.buckets import BucketTotals


class StateUnavailable(Exception):
    """The shared store could not be reached; the worker goes on with its own totals."""


@dataclass(frozen=True, slots=True)
class BucketReport:
    totals: BucketTotals
    tripped: bool  # this worker's signals tripped at the close
    new_sources: tuple[str, ...]  # sources this worker saw first outside a surge
    queries: tuple[str, ...]  # sources this worker does not know, seen during a surge
    cutoff_age: float = 0.0  # seconds: a queried source is known if first reported this long ago


@dataclass(frozen=True, slots=True)
class SharedView:
    window: BucketTotals  # over every node, the detection window
    newest: BucketTotals  # the newest complete bucket over every node
    tripped_ago: float | None  # seconds since some node's signals tripped; None: not lately
    known: frozenset[str]  # the queried sources that some node reported early enough


class TrafficStore(Protocol):
    async def publish(self, tenant: str, route: str, report: BucketReport) -> SharedView:
        """Add one closed bucket and return the shared view; raise StateUnavailable on failure."""
        ...
