"""Fields: case-insensitive look-ups that stay right after every change."""

from __future__ import annotations

from stockade.http.fields import Fields


def sample() -> Fields:
    return Fields([(b"Host", b"a.example"), (b"X-Tag", b"1"), (b"x-tag", b"2"), (b"Empty", b"")])


def test_get_is_case_insensitive() -> None:
    fields = sample()
    assert fields.get(b"HOST") == b"a.example"
    assert fields.get(b"X-TAG") == b"1"
    assert fields.get_all(b"x-Tag") == [b"1", b"2"]


def test_missing_and_empty_values() -> None:
    fields = sample()
    assert fields.get(b"absent") is None
    assert fields.get(b"absent", b"fallback") == b"fallback"
    assert fields.get(b"empty", b"fallback") == b""
    assert b"EMPTY" in fields
    assert b"absent" not in fields
    assert "host" not in fields  # only bytes names


def test_get_all_returns_a_copy() -> None:
    fields = sample()
    fields.get_all(b"x-tag").append(b"3")
    assert fields.get_all(b"x-tag") == [b"1", b"2"]


def test_lookups_follow_changes() -> None:
    fields = sample()
    assert fields.get(b"x-new") is None
    fields.add(b"X-New", b"a")
    assert fields.get(b"x-new") == b"a"
    fields.set(b"x-tag", b"9")
    assert fields.get_all(b"X-Tag") == [b"9"]
    fields.remove(b"HOST")
    assert fields.get(b"host") is None
    fields.remove_many({b"x-new", b"empty"})
    assert fields.get(b"x-new") is None
    assert fields.items() == [(b"x-tag", b"9")]


def test_names_keep_their_case_and_order() -> None:
    fields = sample()
    assert [name for name, _ in fields] == [b"Host", b"X-Tag", b"x-tag", b"Empty"]
    assert len(fields) == 4


def test_equality_and_copy() -> None:
    fields = sample()
    copy = fields.copy()
    assert copy == fields
    copy.add(b"X-More", b"1")
    assert copy != fields
    assert fields != Fields([(b"host", b"a.example")])


def test_to_text_joins_repeated_fields() -> None:
    assert sample().to_text() == {"host": "a.example", "x-tag": "1, 2", "empty": ""}


def test_lowered_names_follow_changes() -> None:
    fields = Fields([(b"Host", b"a"), (b"X-Tag", b"1")], lowered_names=[b"host", b"x-tag"])
    fields.add(b"X-New", b"2")
    assert fields.lowered_names() == [b"host", b"x-tag", b"x-new"]
    fields.remove_many(frozenset({b"x-tag"}))
    assert fields.lowered_names() == [b"host", b"x-new"]
    assert fields.items() == [(b"Host", b"a"), (b"X-New", b"2")]
    fields.set(b"HOST", b"b")
    assert fields.lowered_names() == [b"x-new", b"host"]
    assert fields.get(b"host") == b"b"


def test_copy_keeps_names_apart() -> None:
    fields = Fields([(b"Host", b"a")], lowered_names=[b"host"])
    copied = fields.copy()
    copied.add(b"X-Tag", b"1")
    assert fields.lowered_names() == [b"host"]
    assert copied.lowered_names() == [b"host", b"x-tag"]


def test_large_section_uses_index() -> None:
    items = [(b"X-F%d" % number, b"%d" % number) for number in range(20)]
    fields = Fields(items)
    assert fields.get(b"x-f19") == b"19"
    assert fields.get(b"X-F0") == b"0"
    fields.add(b"X-F0", b"again")
    assert fields.get_all(b"x-f0") == [b"0", b"again"]
    assert fields.get(b"absent") is None


def test_small_section_get_matches_index() -> None:
    fields = sample()
    scanned = [fields.get(name) for name in (b"host", b"X-TAG", b"empty", b"absent")]
    assert fields.get_all(b"x-tag") == [b"1", b"2"]  # builds the index
    indexed = [fields.get(name) for name in (b"host", b"X-TAG", b"empty", b"absent")]
    assert scanned == indexed
