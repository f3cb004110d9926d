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
