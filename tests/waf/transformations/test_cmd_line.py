"""t:cmdLine."""

from __future__ import annotations

import pytest

from stockade.waf.transformations.cmd_line import cmd_line

CASES = [
    (b"", b""),
    (b"ls", b"ls"),
    (b"C^M^D", b"cmd"),
    (b"\"w\"h'o'a\\m\\i", b"whoami"),
    (b"cat  /etc/passwd", b"cat/etc/passwd"),  # a space before "/" goes
    (b"echo (a)", b"echo(a)"),
    (b"a,b;c\td\re\nf", b"a b c d e f"),
    (b"a ,; \t b", b"a b"),
    (b"a ^ b", b"a b"),  # deleted bytes do not break a run of separators
    (b" a ", b" a "),
    (b"  /bin", b"/bin"),
    (b"NET USER", b"net user"),
    (b"\xc9", b"\xc9"),  # only ASCII letters are lowercased
]


@pytest.mark.parametrize(("value", "expected"), CASES)
def test_cmd_line(value: bytes, expected: bytes) -> None:
    assert cmd_line(value) == expected
