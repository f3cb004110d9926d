"""t:replaceComments, t:removeComments and t:removeCommentsChar."""

from __future__ import annotations

import pytest

from stockade.waf.transformations.remove_comments import remove_comments
from stockade.waf.transformations.remove_comments_char import remove_comments_char
from stockade.waf.transformations.replace_comments import replace_comments

REPLACE_CASES = [
    (b"", b""),
    (b"UNION/**/SELECT", b"UNION SELECT"),
    (b"a/*x*/b/*y*/c", b"a b c"),
    (b"a/*unterminated", b"a "),
    (b"/*", b" "),
    (b"a*/b", b"a*/b"),  # a closer alone stays
    (b"a/*/b", b"a "),  # "/*/" opens but does not close
    (b"a/**/", b"a "),
    (b"a<!--b-->c", b"a<!--b-->c"),
    (b"a--b#c", b"a--b#c"),
]


@pytest.mark.parametrize(("value", "expected"), REPLACE_CASES)
def test_replace_comments(value: bytes, expected: bytes) -> None:
    assert replace_comments(value) == expected


REMOVE_CASES = [
    (b"", b""),
    (b"UNION/**/SELECT", b"UNIONSELECT"),
    (b"a/**//**/b", b"a/**/b"),  # the byte after a comment is copied unread
    (b"a/*x*/ b", b"a b"),
    (b"a<!--x-->b", b"ab"),
    (b"a/*x-->b", b"ab"),  # either closer ends either opener
    (b"a/*x", b"a "),
    (b"a/*x*/", b"a\x00"),  # a comment ending the value copies a NUL
    (b"1 OR 1=1-- -", b"1 OR 1=1"),
    (b"1 OR 1=1# x", b"1 OR 1=1"),
    (b"a/*x*/#b", b"a#b"),
    (b"a-b", b"a-b"),
    (b"a*/b", b"a*/b"),
]


@pytest.mark.parametrize(("value", "expected"), REMOVE_CASES)
def test_remove_comments(value: bytes, expected: bytes) -> None:
    assert remove_comments(value) == expected


REMOVE_CHAR_CASES = [
    (b"", b""),
    (b"UNION/**/SELECT", b"UNIONSELECT"),
    (b"a/*x*/b", b"axb"),
    (b"a<!--x-->b", b"axb"),
    (b"a--b#c", b"abc"),
    (b"--->", b"->"),  # "--" is read first, leaving "->"
    (b"-->", b""),
    (b"-/*-", b"--"),  # deleting a marker never forms a new one
    (b"*/*", b"*"),
    (b"no markers", b"no markers"),
]


@pytest.mark.parametrize(("value", "expected"), REMOVE_CHAR_CASES)
def test_remove_comments_char(value: bytes, expected: bytes) -> None:
    assert remove_comments_char(value) == expected


def test_many_comments_stay_linear() -> None:
    value = b"/**/x" * 200_000
    assert remove_comments(value) == b"x" * 200_000
    assert remove_comments_char(value) == b"x" * 200_000
    assert replace_comments(value) == b" x" * 200_000
