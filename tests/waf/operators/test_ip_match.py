"""@ipMatch and @ipMatchFromFile."""

from __future__ import annotations

from pathlib import Path

import pytest

from stockade.waf.operators import OperatorError, build_operator
from tests.waf.operators.recording import RecordingContext

CASES = [
    ("127.0.0.1,::1", b"127.0.0.1", True),
    ("127.0.0.1,::1", b"::1", True),
    ("127.0.0.1,::1", b"127.0.0.2", False),
    ("10.0.0.0/8", b"10.255.1.2", True),
    ("10.0.0.0/8", b"11.0.0.0", False),
    ("10.1.2.3/8", b"10.9.9.9", True),  # host bits are ignored
    ("192.0.2.0/24, 198.51.100.0/24", b"198.51.100.77", True),
    ("2001:db8::/32", b"2001:db8:ffff::1", True),
    ("2001:db8::/32", b"2001:db9::1", False),
    ("10.0.0.0/8", b"::ffff:10.0.0.1", False),  # versions do not mix
    ("10.0.0.0/8", b"not an address", False),
    ("10.0.0.0/8", b"", False),
    ("10.0.0.0/8", b"\xff\xfe", False),
    ("0.0.0.0/0", b"203.0.113.9", True),
    ("10.0.0.0/9,10.128.0.0/9", b"10.200.0.1", True),  # adjacent ranges merge
]


@pytest.mark.parametrize(("networks", "value", "expected"), CASES)
def test_ip_match(networks: str, value: bytes, expected: bool, ctx: RecordingContext) -> None:
    assert build_operator("ipMatch", networks).evaluate(value, ctx) is expected


@pytest.mark.parametrize("networks", ["", "10.0.0.0/33", "300.1.1.1", "10.0.0.0/8,bogus"])
def test_ip_match_rejects_invalid_list(networks: str) -> None:
    with pytest.raises(OperatorError) as caught:
        build_operator("ipMatch", networks)
    assert "@ipMatch" in str(caught.value)


def test_ip_match_from_file(tmp_path: Path, ctx: RecordingContext) -> None:
    (tmp_path / "blocked.txt").write_text("# blocked\n192.0.2.0/24\n\n 2001:db8::1 \n")
    operator = build_operator("ipMatchFromFile", "blocked.txt", base_dir=tmp_path)
    assert operator.evaluate(b"192.0.2.7", ctx)
    assert operator.evaluate(b"2001:db8::1", ctx)
    assert not operator.evaluate(b"2001:db8::2", ctx)
    assert build_operator("ipMatchF", "blocked.txt", base_dir=tmp_path).evaluate(b"192.0.2.1", ctx)


def test_ip_match_from_file_names_bad_line(tmp_path: Path) -> None:
    (tmp_path / "list.txt").write_text("192.0.2.0/24\nnot-an-ip\n")
    with pytest.raises(OperatorError, match="not-an-ip"):
        build_operator("ipMatchFromFile", "list.txt", base_dir=tmp_path)


def test_remembered_result_per_value() -> None:
    operator = build_operator("ipMatch", "10.0.0.0/8")
    context = RecordingContext()
    for _ in range(3):
        assert operator.evaluate(b"10.1.2.3", context)
        assert not operator.evaluate(b"192.0.2.1", context)
        assert not operator.evaluate(b"not an address", context)
