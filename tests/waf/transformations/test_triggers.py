"""Trigger bytes: a value without a transformation's triggers comes out unchanged or lowercased."""

from __future__ import annotations

import random

import pytest

from stockade.waf.transformations import get_transformation
from stockade.waf.transformations._triggers import (
    ANY_VALUE,
    LOWERCASING,
    chain_mask,
    value_mask,
)

# Pieces that trigger one transformation or another, and plain ones.
PIECES = [
    b"%41", b"%u0041", b"%uff21", b"%zz", b"%", b"+", b"&amp;", b"&#65;", b"&#x41", b"&lt",
    b"&", b"\\x41", b"\\u0041", b"\\101", b"\\n", b"\\", b"/*", b"*/", b"<!--", b"-->", b"--",
    b"#", b"//", b"/./", b"../", b"/.", b".", b"\x00", b" ", b"  ", b"\t", b"\r\n", b"\x0b",
    b"\xa0", b"\xc3\xa9", b"\xe2\x82\xac", b"\xff", b"'", b'"', b"^", b",", b";", b"(", b"/",
    b"-", b"*", b"A", b"b", b"Select", b"42", b"id", b"=", b"?", b":", b"@",
]
TRANSFORMATIONS = [
    "urlDecode", "urlDecodeUni", "htmlEntityDecode", "jsDecode", "cssDecode", "escapeSeqDecode",
    "removeNulls", "replaceNulls", "utf8toUnicode", "removeWhitespace", "compressWhitespace",
    "trim", "trimLeft", "trimRight", "cmdLine", "replaceComments", "removeCommentsChar",
    "normalizePath", "normalisePath", "normalizePathWin", "normalisePathWin", "lowercase",
]


def _values() -> list[bytes]:
    chooser = random.Random(20261205)
    values = [bytes([byte]) for byte in range(256)]
    values += [first + second for first in PIECES for second in PIECES]
    for _ in range(20000):
        values.append(b"".join(chooser.choice(PIECES) for _ in range(chooser.randint(1, 6))))
    return values


VALUES = _values()


def _expected(value: bytes, lowercases: bool) -> bytes:
    return value.lower() if lowercases else value


@pytest.mark.parametrize("name", TRANSFORMATIONS)
def test_value_without_triggers_is_unchanged_or_lowercased(name: str) -> None:
    mask, lowercases = chain_mask((name,))
    assert not mask & ANY_VALUE, f"{name} should have triggers"
    assert lowercases == (name.lower() in LOWERCASING)
    function = get_transformation(name)
    quiet = [value for value in VALUES if not value_mask(value) & mask]
    assert quiet, name
    for value in quiet:
        assert function(value) == _expected(value, lowercases), (name, value)


@pytest.mark.parametrize("name", [name for name in TRANSFORMATIONS if name != "lowercase"])
def test_triggers_are_not_empty(name: str) -> None:
    """Each transformation changes some value that contains its triggers."""
    mask, lowercases = chain_mask((name,))
    function = get_transformation(name)
    changed = [value for value in VALUES
               if value_mask(value) & mask and function(value) != _expected(value, lowercases)]
    assert changed, name


@pytest.mark.parametrize("chain", [
    ("utf8toUnicode", "urlDecodeUni", "htmlEntityDecode", "jsDecode", "cssDecode", "removeNulls"),
    ("lowercase", "urlDecodeUni"),
    ("urlDecodeUni", "cmdLine", "normalizePath", "lowercase"),
    ("urlDecodeUni", "replaceComments", "removeWhitespace"),
])
def test_chain_without_triggers_is_unchanged_or_lowercased(chain: tuple[str, ...]) -> None:
    mask, lowercases = chain_mask(chain)
    functions = [get_transformation(name) for name in chain]
    for value in VALUES:
        if value_mask(value) & mask:
            continue
        result = value
        for function in functions:
            result = function(result)
        assert result == _expected(value, lowercases), (chain, value)


@pytest.mark.parametrize("chain", [("base64Decode",), ("urlDecodeUni", "sha1", "hexEncode"),
                                   ("none",), ("length",)])
def test_unknown_chain_matches_every_value(chain: tuple[str, ...]) -> None:
    mask, _ = chain_mask(chain)
    assert mask == ANY_VALUE
    assert value_mask(b"") & mask
    assert value_mask(b"plain") & mask
