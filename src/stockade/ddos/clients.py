"""Per-client rates and the set of known sources, bounded in memory.

A client's rate is a decaying sum: each admitted request adds its cost, and
the sum decays with time constant ``tau`` (the detection window), so a
client steadily sending ``r`` cost per second reaches about ``r * tau``. One
float pair per client, no per-request list.
"""

from __future__ import annotations

import logging
import math

log = logging.getLogger(__name__)

MAX_CLIENTS = 100_000  # clients tracked per route and worker; the least recent are dropped
MAX_KNOWN_SOURCES = 200_000  # known sources per tenant and worker, least recently seen dropped


class ClientRates:
    def __init__(self, tau: float, max_clients: int = MAX_CLIENTS) -> None:
        self.tau = tau
        self._entries: dict[str, tuple[float, float]] = {}  # client: (decayed sum, last time)
        self._max = max_clients
        self.dropped = 0

    def rate(self, client: str, now: float) -> float:
        """Return the client's admitted cost per second."""
        entry = self._entries.get(client)
        if entry is None:
            return 0.0
        total, last = entry
        return total * math.exp(-(now - last) / self.tau) / self.tau

    def add(self, client: str, cost: float, now: float) -> None:
        entry = self._entries.pop(
            client, None
        )  # re-inserted last: dict order is least recent first
        total = cost
        if entry is not None:
            total += entry[0] * math.exp(-(now - entry[1]) / self.tau)
        self._entries[client] = (total, now)
        if len(self._entries) > self._max:
            del self._entries[next(iter(self._entries))]
            self.dropped += 1

    def active(self, now: float, within: float) -> int:
        """Count clients seen in the last ``within`` seconds, dropping long-idle ones on the way."""
        horizon = now - within
        stale = now - 10 * self.tau
        count = 0
        for client, (_, last) in list(self._entries.items()):
            if last >= horizon:
                count += 1
            elif last < stale:
                del self._entries[client]
        return count

    def __len__(self) -> int:
        return len(self._entries)


class KnownSources:
    """Client addresses seen outside surges; during a surge, a new address is unknown.

    A source counts as known only if it was first seen before a cut-off the
    caller gives (the start of the surge's detection window), so addresses
    that joined while the surge built up stay unknown.
    """

    def __init__(self, keep_seconds: float, max_sources: int = MAX_KNOWN_SOURCES) -> None:
        self.keep_seconds = keep_seconds
        self._seen: dict[str, tuple[float, float]] = {}  # source: (first seen, last seen)
        self._max = max_sources

    def remember(self, source: str, now: float, first: float | None = None) -> bool:
        """Record a sighting; return True when the source was not known before."""
        entry = self._seen.pop(source, None)
        fresh = entry is None or now - entry[1] > self.keep_seconds
        if entry is not None and not fresh:
            first = entry[0] if first is None else min(first, entry[0])
        self._seen[source] = (now if first is None else first, now)
        if len(self._seen) > self._max:
            del self._seen[next(iter(self._seen))]
        return fresh

    def knows(self, source: str, now: float, first_before: float) -> bool:
        entry = self._seen.get(source)
        return (
            entry is not None and now - entry[1] <= self.keep_seconds and entry[0] <= first_before
        )

    def __len__(self) -> int:
        return len(self._seen)
