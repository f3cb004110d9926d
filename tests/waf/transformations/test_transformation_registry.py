"""The transformation registry and properties every transformation shares."""

from __future__ import annotations

import pytest

from stockade.waf.transformations import (
    TRANSFORMATION_NAMES,
    UnknownTransformationError,
    get_transformation,
)

EXPECTED_NAMES = {
    "none", "lowercase", "uppercase", "urlDecode", "urlDecodeUni", "urlEncode",
    "htmlEntityDecode", "jsDecode", "cssDecode", "utf8toUnicode", "removeNulls",
    "replaceNulls", "removeWhitespace", "compressWhitespace", "replaceComments",
    "removeComments", "removeCommentsChar", "cmdLine", "normalizePath", "normalisePath",
    "normalizePathWin", "normalisePathWin", "escapeSeqDecode", "base64Decode",
    "base64DecodeExt", "base64Encode", "hexEncode", "hexDecode", "sha1", "md5", "length",
    "trim", "trimLeft", "trimRight", "sqlHexDecode", "parityEven7bit", "parityOdd7bit",
    "parityZero7bit",
}  # fmt: skip

# Values that exercise edge cases in every decoder at once.
EDGE_VALUES = [
    b"",
    b"\x00",
    b"%",
    b"%u",
    b"&",
    b"&#",
    b"&#x",
    b"\\",
    b"/*",
    b"--",
    b"0x",
    bytes(range(256)),
    b"%u%uff%u12%zz%%2" * 3,
    b"\xc3\xa9\xc0\xaf\xed\xa0\x80\xf4\x90\x80\x80\xff",
]

HUGE_LENGTH = 1 << 20  # bytes; large enough to expose a quadratic scan


def test_registry_lists_every_seclang_name() -> None:
    assert TRANSFORMATION_NAMES == EXPECTED_NAMES


@pytest.mark.parametrize("spelling", ["urlDecodeUni", "URLDECODEUNI", "urldecodeuni"])
def test_lookup_ignores_letter_case(spelling: str) -> None:
    assert get_transformation(spelling)(b"%41") == b"A"


def test_unknown_name_lists_close_names() -> None:
    with pytest.raises(UnknownTransformationError) as caught:
        get_transformation("urlDecodUni")
    assert "t:urlDecodUni" in str(caught.value)
    assert "urlDecodeUni" in str(caught.value)


def test_unknown_name_is_a_key_error() -> None:
    with pytest.raises(KeyError):
        get_transformation("doesNotExist")


@pytest.mark.parametrize("name", sorted(EXPECTED_NAMES))
@pytest.mark.parametrize("value", EDGE_VALUES, ids=range(len(EDGE_VALUES)))
def test_edge_values_give_bytes(name: str, value: bytes) -> None:
    assert isinstance(get_transformation(name)(value), bytes)


@pytest.mark.parametrize("name", sorted(EXPECTED_NAMES))
def test_huge_value_is_processed(name: str) -> None:
    unit = b"a%u0041&#65;\\x41/**/--#0x41 ./../\xc3\xa9+"
    value = unit * (HUGE_LENGTH // len(unit))
    assert isinstance(get_transformation(name)(value), bytes)


@pytest.mark.parametrize(
    "name",
    [
        "urlDecode", "urlDecodeUni", "htmlEntityDecode", "jsDecode", "cssDecode",
        "escapeSeqDecode", "utf8toUnicode", "replaceComments", "removeComments",
        "removeCommentsChar", "normalizePath", "sqlHexDecode", "removeNulls",
    ],
)  # fmt: skip
def test_plain_text_is_returned_unchanged(name: str) -> None:
    value = b"GET index html with plain words 123"
    assert get_transformation(name)(value) == value


@pytest.mark.parametrize("name", sorted(EXPECTED_NAMES))
def test_docstring_follows_template(name: str) -> None:
    doc = get_transformation(name).__doc__ or ""
    assert "Argument:" in doc
    assert "Example:" in doc
