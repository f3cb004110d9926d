"""The in-memory store of persistent collections."""

from __future__ import annotations

from stockade.waf.collections import MapCollection
from stockade.waf.store import CollectionStore


def _record(value: bytes) -> MapCollection:
    record = MapCollection("IP")
    record.set("counter", value)
    return record


def test_full_store_drops_oldest_saved() -> None:
    store = CollectionStore(max_records=2)
    store.save("IP", "a", _record(b"1"))
    store.save("IP", "b", _record(b"2"))
    store.save("IP", "a", _record(b"3"))  # saved again, so "b" is now the oldest
    store.save("IP", "c", _record(b"4"))
    assert store.load("IP", "a").first("counter") == b"3"
    assert store.load("IP", "b").first("counter") is None
    assert store.load("IP", "c").first("counter") == b"4"

