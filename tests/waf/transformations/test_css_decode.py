"""t:cssDecode."""

from __future__ import annotations

import pytest

from stockade.waf.transformations.css_decode import css_decode

CASES = [
    (b"", b""),
    (b"abc", b"abc"),
    (b"\\41", b"A"),
    (b"\\41 B", b"AB"),  # one whitespace after a hex escape is swallowed
    (b"\\41  B", b"A B"),
    (b"\\41\tB", b"AB"),
    (b"\\4", b"\x04"),
    (b"\\141", b"A"),  # the last two digits count
    (b"\\0041", b"A"),
    (b"\\ff21", b"A"),  # full-width A, four digits
    (b"\\0ff21", b"A"),  # five digits with a leading zero
    (b"\\1ff21", b"!"),  # five digits otherwise: low byte only
    (b"\\00ff21", b"A"),
    (b"\\01ff21", b"!"),
    (b"\\1234567", b"V7"),  # six digits at most
    (b"\\r", b"r"),  # not hex: the byte stands for itself
    (b"\\g", b"g"),
    (b"\\\n", b""),  # a line continuation disappears
    (b"a\\", b"a"),  # a backslash at the end is dropped
    (b"\\\\", b"\\"),
    (b"j\\61 vasc\\ript\\3a alert", b"javascript:alert"),
]


@pytest.mark.parametrize(("value", "expected"), CASES)
def test_css_decode(value: bytes, expected: bytes) -> None:
    assert css_decode(value) == expected
