"""Every transformation gives ModSecurity's output, byte for byte, on the test tables.

libmodsecurity 3 (the Debian package, 3.0.9 when written) runs each case as
an ``@rx`` rule that matches only the exact expected bytes. The few places
where Stockade deliberately differs are listed in DEVIATIONS with the reason.
"""

from __future__ import annotations

import binascii
from collections.abc import Callable

import pytest

from stockade.waf.transformations import TRANSFORMATION_NAMES, get_transformation
from tests.waf.transformations import (
    test_cmd_line,
    test_comments,
    test_css_decode,
    test_encoding_transformations,
    test_escape_seq_decode,
    test_html_entity_decode,
    test_js_decode,
    test_normalize_path,
    test_simple_transformations,
    test_url_decode,
    test_utf8_to_unicode,
)
from tests.waf.transformations.libmodsecurity import ModSecurity, load_modsecurity
from tests.waf.transformations.test_transformation_registry import EDGE_VALUES

TABLES: dict[str, list[tuple[bytes, bytes]]] = {
    "urlDecode": test_url_decode.URL_DECODE_CASES,
    "urlDecodeUni": test_url_decode.URL_DECODE_UNI_CASES,
    "htmlEntityDecode": test_html_entity_decode.CASES,
    "jsDecode": test_js_decode.CASES,
    "cssDecode": test_css_decode.CASES,
    "escapeSeqDecode": test_escape_seq_decode.CASES,
    "utf8toUnicode": test_utf8_to_unicode.CASES,
    "cmdLine": test_cmd_line.CASES,
    "normalizePath": test_normalize_path.CASES,
    "normalizePathWin": test_normalize_path.WINDOWS_CASES,
    "replaceComments": test_comments.REPLACE_CASES,
    "removeComments": test_comments.REMOVE_CASES,
    "removeCommentsChar": test_comments.REMOVE_CHAR_CASES,
}


def _is_hex(value: bytes) -> bool:
    try:
        binascii.unhexlify(value[: len(value) - len(value) % 2])
    except binascii.Error:
        return False
    return True


def _is_padded_base64(value: bytes) -> bool:
    try:
        binascii.a2b_base64(value, strict_mode=True)
    except binascii.Error:
        return False
    return True


# Transformation -> (does the case fall under the deviation?, why Stockade differs).
DEVIATIONS: dict[str, tuple[Callable[[bytes], bool], str]] = {
    "hexDecode": (
        lambda value: not _is_hex(value),
        "ModSecurity turns non-hex pairs into arbitrary bytes. Stockade keeps the value, as "
        "Coraza does.",
    ),
    "sqlHexDecode": (
        lambda value: True,
        "ModSecurity drops the last byte of every value and stops at a NUL byte.",
    ),
    "base64Decode": (
        lambda value: not _is_padded_base64(value),
        "ModSecurity returns nothing for a value with a stray byte, which hides payloads. "
        "Stockade decodes up to it, as Coraza does.",
    ),
    "cssDecode": (
        lambda value: b"\x00" in value,
        "ModSecurity cuts the value at the first NUL byte, which hides what follows.",
    ),
    "compressWhitespace": (
        lambda value: b"\xa0" in value,
        "The SecLang reference lists 0xA0 as whitespace. ModSecurity 3 skips it by accident "
        "(a signed char comparison).",
    ),
    "removeWhitespace": (
        lambda value: b"\xa0" in value,
        "The SecLang reference and Coraza treat 0xA0 as whitespace. ModSecurity 3 does not.",
    ),
}


def _cases_for(name: str) -> list[bytes]:
    values = [value for value, _ in TABLES.get(name, [])]
    for table in (test_simple_transformations.CASES, test_encoding_transformations.CASES):
        values.extend(value for case_name, value, _ in table if case_name == name)
    values.extend(EDGE_VALUES)
    return values


@pytest.fixture(scope="module")
def modsecurity() -> ModSecurity:
    engine = load_modsecurity()
    if engine is None:
        pytest.skip("libmodsecurity 3 is not installed; apt-get install libmodsecurity3")
    return engine


@pytest.mark.parametrize("name", sorted(TRANSFORMATION_NAMES))
def test_transformation_matches_modsecurity(name: str, modsecurity: ModSecurity) -> None:
    deviation = DEVIATIONS.get(name)
    transformation = get_transformation(name)
    mismatches = []
    for value in _cases_for(name):
        if deviation is not None and deviation[0](value):
            continue
        output = transformation(value)
        if not modsecurity.transforms_to(name, value, output):
            mismatches.append(f"{value[:60]!r} -> {output[:60]!r}")
    assert mismatches == []
