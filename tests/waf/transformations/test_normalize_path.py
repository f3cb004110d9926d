"""t:normalizePath and t:normalizePathWin."""

from __future__ import annotations

import pytest

from stockade.waf.transformations.normalize_path import normalize_path
from stockade.waf.transformations.normalize_path_win import normalize_path_win

CASES = [
    (b"", b""),
    (b"/a/b/c", b"/a/b/c"),
    (b"a", b"a"),
    (b".", b""),
    (b"./", b""),
    (b"./a", b"a"),
    (b"..", b".."),
    (b"../", b"../"),
    (b"../..", b"../.."),
    (b"./..", b".."),
    (b"/a//b", b"/a/b"),
    (b"a//b/", b"a/b/"),
    (b"//", b"/"),
    (b"/a/./b", b"/a/b"),
    (b"/a/b/.", b"/a/b"),
    (b"/a/b/./", b"/a/b/"),
    (b"/a/b/..", b"/a"),
    (b"/a/b/../", b"/a/"),
    (b"a/../b", b"b"),
    (b"a/../../b", b"../b"),
    (b"/../../etc/passwd", b"/etc/passwd"),  # never above the root
    (b"/..", b""),  # the root slash goes with the trailing-slash rule
    (b"/a/../..", b""),
    (b"x/y/z/../../..", b""),
    (b"/a/b..", b"/a"),  # a segment ending in ".." counts as a back reference
    (b"/a/b./c", b"/a/b./c"),
    (b"/a/.../b", b"/a/b"),  # "..." backs up over itself only
    (b"/a\\..\\b", b"/a\\..\\b"),  # backslashes are ordinary bytes here
]


@pytest.mark.parametrize(("value", "expected"), CASES)
def test_normalize_path(value: bytes, expected: bytes) -> None:
    assert normalize_path(value) == expected


WINDOWS_CASES = [
    (b"C:\\a\\..\\windows\\.\\win.ini", b"C:/windows/win.ini"),
    (b"\\..\\..\\boot.ini", b"/boot.ini"),
    (b"a\\\\b", b"a/b"),
    (b"a/b\\", b"a/b/"),
    (b"..\\x", b"../x"),
]


@pytest.mark.parametrize(("value", "expected"), WINDOWS_CASES)
def test_normalize_path_win(value: bytes, expected: bytes) -> None:
    assert normalize_path_win(value) == expected
