"""Persistent collections (IP, GLOBAL, ...) kept in process memory.

NOTE: records live in one worker's memory, so each worker of a gateway
keeps its own counts. The CRS 4 rules do not use these collections.
"""

from __future__ import annotations

import time

from stockade.waf.collections import MapCollection

MAX_RECORDS = 100_000
"""Records kept per collection; the oldest are dropped first past it."""


class CollectionStore:
    def __init__(self, timeout_seconds: int = 3600, max_records: int = MAX_RECORDS) -> None:
        self.timeout_seconds = timeout_seconds
        self.max_records = max_records
        self._records: dict[tuple[str, str], tuple[float, dict[str, tuple[str, bytes]]]] = {}
        # Deadlines of expirevar, by record and then by lowercased variable name. They
        # are dropped with their record, and kept in the order they were last set.
        self._deadlines: dict[tuple[str, str], dict[str, float]] = {}

    def load(self, collection: str, key: str) -> MapCollection:
        now = time.monotonic()
        stored = self._records.get((collection, key))
        record = MapCollection(collection)
        if stored is None or now - stored[0] > self.timeout_seconds:
            return record
        deadlines = self._deadlines.get((collection, key))
        if deadlines:
            for lowered, deadline in list(deadlines.items()):
                if deadline <= now:
                    # The variable leaves the stored record, so a later plain setvar stays.
                    stored[1].pop(lowered, None)
                    del deadlines[lowered]
        for name, value in stored[1].values():
            record.set(name, value)
        return record

    def save(self, collection: str, key: str, record: MapCollection) -> None:
        # Records stay in the order they were last saved, so the first is the oldest
        # and a full store drops it without a search.
        records = self._records
        records.pop((collection, key), None)
        if len(records) >= self.max_records:
            oldest = next(iter(records))
            del records[oldest]
            self._deadlines.pop(oldest, None)
        records[(collection, key)] = (time.monotonic(), record.snapshot())

    def expire(self, collection: str, record: MapCollection, variable: str, seconds: int) -> None:
        key = record.first("__key")
        if key is None:
            return
        record_key = (collection, key.decode("utf-8", "surrogateescape"))
        deadlines = self._deadlines.pop(record_key, None) or {}
        deadlines[variable.lower()] = time.monotonic() + seconds
        self._deadlines[record_key] = deadlines
        if len(self._deadlines) > self.max_records:
            # The record goes with its deadlines, so that no variable outlives its deadline.
            oldest = next(iter(self._deadlines))
            del self._deadlines[oldest]
            self._records.pop(oldest, None)
