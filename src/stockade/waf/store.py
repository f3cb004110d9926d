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
        self._expiry: dict[tuple[str, str, str], float] = {}

    def load(self, collection: str, key: str) -> MapCollection:
        now = time.monotonic()
        stored = self._records.get((collection, key))
        record = MapCollection(collection)
        if stored is None or now - stored[0] > self.timeout_seconds:
            return record
        for lowered, (name, value) in stored[1].items():
            deadline = self._expiry.get((collection, key, lowered))
            if deadline is None or deadline > now:
                record.set(name, value)
        return record

    def save(self, collection: str, key: str, record: MapCollection) -> None:
        # Records stay in the order they were last saved, so the first is the oldest
        # and a full store drops it without a search.
        records = self._records
        records.pop((collection, key), None)
        if len(records) >= self.max_records:
            del records[next(iter(records))]
        records[(collection, key)] = (time.monotonic(), record.snapshot())

    def expire(self, collection: str, record: MapCollection, variable: str, seconds: int) -> None:
        key = record.first("__key")
        if key is None:
            return
        deadline = time.monotonic() + seconds
        record_key = key.decode("utf-8", "surrogateescape")
        self._expiry[(collection, record_key, variable.lower())] = deadline
