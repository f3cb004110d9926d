from __future__ import annotations

import pytest

from stockade.protection.discovery.shapes import (
    SegmentShape,
    is_dictionary_word,
    is_version,
    scalar_type,
    segment_shape,
    singular,
    string_format,
    word_parts,
)

SEGMENTS = [
    ("8812", SegmentShape.INTEGER),
    ("550e8400-e29b-41d4-a716-446655440000", SegmentShape.UUID),
    ("507f1f77bcf86cd799439011", SegmentShape.OBJECT_ID),
    ("a3f9c2e17b", SegmentShape.HEX),
    ("2024-02-29", SegmentShape.DATE),
    ("2024-02-29T10:00:00Z", SegmentShape.DATE_TIME),
    ("2024-02-29T10:00:00.123+02:00", SegmentShape.DATE_TIME),
    ("jane@example.com", SegmentShape.EMAIL),
    ("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig", SegmentShape.JWT),
    ("dGhpcyBpcyBhIHRlc3Q=", SegmentShape.BASE64),
    ("ord_8a7b6c5d4e", SegmentShape.TOKEN),
    ("SKU-123-A45", SegmentShape.TOKEN),
    ("ord_AqnxBauhYjpusX3", SegmentShape.TOKEN),
    ("z4Ni", SegmentShape.OTHER),
    ("v1", SegmentShape.VERSION),
    ("v2beta1", SegmentShape.VERSION),
    ("me", SegmentShape.WORD),
    ("order-items", SegmentShape.WORD),
    ("oauth2", SegmentShape.WORD),
    ("deadbeef", SegmentShape.WORD),  # hex letters only: a word until cardinality decides otherwise
    ("report.pdf", SegmentShape.OTHER),
    ("", SegmentShape.EMPTY),
    ("2024-13-01", SegmentShape.OTHER),  # month 13
]


@pytest.mark.parametrize(("segment", "shape"), SEGMENTS)
def test_segment_shape(segment: str, shape: SegmentShape) -> None:
    assert segment_shape(segment) is shape


def test_versions() -> None:
    assert is_version("v10.2")
    assert is_version("V3")
    assert not is_version("vault")
    assert not is_version("v1x")


def test_dictionary_words() -> None:
    assert is_dictionary_word("me")
    assert is_dictionary_word("search")
    assert is_dictionary_word("orderItems")
    assert is_dictionary_word("categories")
    assert not is_dictionary_word("alice")
    assert not is_dictionary_word("x7")


def test_word_parts() -> None:
    assert word_parts("orderItems") == ["order", "items"]
    assert word_parts("order_items-v2") == ["order", "items", "v2"]
    assert word_parts("order-123") is None
    assert word_parts("a.b") is None
    assert word_parts("api-keys") == ["api", "keys"]


def test_singular() -> None:
    assert [
        singular(word)
        for word in ("users", "categories", "addresses", "boxes", "status", "people", "data")
    ] == ["user", "category", "address", "box", "status", "person", "data"]


def test_string_formats() -> None:
    assert string_format("a@b.io") == "email"
    assert string_format("550e8400-e29b-41d4-a716-446655440000") == "uuid"
    assert string_format("2024-01-31") == "date"
    assert string_format("2024-01-31T00:00:00Z") == "date-time"
    assert string_format("https://example.com/x") == "uri"
    assert string_format("10.1.2.3") == "ipv4"
    assert string_format("::1") == "ipv6"
    assert string_format("hello") is None


def test_scalar_types() -> None:
    assert [scalar_type(text) for text in ("12", "-3", "1.5", "true", "nan", "abc", "1e3")] == [
        "integer",
        "integer",
        "number",
        "boolean",
        "string",
        "string",
        "number",
    ]
