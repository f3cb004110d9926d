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



def _keyed(key: str, **values: bytes) -> MapCollection:
    record = MapCollection("IP")
    record.set("__key", key.encode())
    for name, value in values.items():
        record.set(name, value)
    return record


def test_expired_variable_not_loaded() -> None:
    store = CollectionStore()
    record = _keyed("a", block=b"1", counter=b"2")
    store.expire("IP", record, "BLOCK", 0)
    store.save("IP", "a", record)
    loaded = store.load("IP", "a")
    assert loaded.first("block") is None
    assert loaded.first("counter") == b"2"


def test_variable_set_again_after_expiry_kept() -> None:
    store = CollectionStore()
    record = _keyed("a", block=b"1")
    store.expire("IP", record, "block", 0)
    store.save("IP", "a", record)
    again = store.load("IP", "a")
    again.set("block", b"2")  # a later setvar without expirevar
    store.save("IP", "a", again)
    assert store.load("IP", "a").first("block") == b"2"


def test_dropped_record_takes_its_deadlines() -> None:
    store = CollectionStore(max_records=1)
    first = _keyed("a", block=b"1")
    store.expire("IP", first, "block", 0)
    store.save("IP", "a", first)
    store.save("IP", "b", _keyed("b"))  # drops "a" and its deadline
    store.save("IP", "a", _keyed("a", block=b"3"))
    assert store.load("IP", "a").first("block") == b"3"


def test_deadlines_bounded_with_their_records() -> None:
    store = CollectionStore(max_records=2)
    for key in ("a", "b"):
        record = _keyed(key, block=b"1")
        store.expire("IP", record, "block", 3600)
        store.save("IP", key, record)
    store.expire("IP", _keyed("c"), "block", 3600)  # a third record's deadline
    # The deadlines of "a" were the oldest, so the store dropped them with their record.
    assert store.load("IP", "a").first("block") is None
    assert store.load("IP", "b").first("block") == b"1"
