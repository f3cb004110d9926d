"""@pm, @pmFromFile and @pmf."""

from __future__ import annotations

from pathlib import Path

import pytest

from stockade.waf.operators import OperatorError, build_operator
from tests.waf.operators.recording import RecordingContext

PM_CASES = [
    ("gzip deflate br", b"x-GZIP, identity", True),
    ("gzip deflate br", b"identity", False),
    ("( )", b"f(x", True),
    ("( )", b"fx", False),
    ("a.b", b"axb", False),  # phrases are literals
    ("a.b", b"A.B", True),
    ("<!-- <![cdata[", b"x<![CDATA[y", True),
    ("\xe9", b"caf\xc3\xa9", True),  # a phrase is matched as its UTF-8 bytes
]


@pytest.mark.parametrize(("phrases", "value", "expected"), PM_CASES)
def test_pm(phrases: str, value: bytes, expected: bool, ctx: RecordingContext) -> None:
    assert build_operator("pm", phrases).evaluate(value, ctx) is expected


def test_pm_captures_phrase_as_listed(capturing: RecordingContext) -> None:
    assert build_operator("pm", "Deflate GZIP").evaluate(b"accept: gzip", capturing)
    assert capturing.captures == [b"GZIP"]


def test_pm_reports_phrase_ending_first(capturing: RecordingContext) -> None:
    assert build_operator("pm", "bcd ab").evaluate(b"abcd", capturing)
    assert capturing.captures == [b"ab"]


def test_pm_without_phrases_is_rejected() -> None:
    with pytest.raises(OperatorError, match="no phrases"):
        build_operator("pm", "   ")


def test_pm_from_file_reads_lines(tmp_path: Path, ctx: RecordingContext) -> None:
    (tmp_path / "list.data").write_bytes(
        b"# comment\r\n\r\n  # indented comment\nnikto\r\nsql map\n   \n/etc/passwd"
    )
    operator = build_operator("pmFromFile", "list.data", base_dir=tmp_path)
    assert operator.evaluate(b"Mozilla (Nikto/2.5)", ctx)
    assert operator.evaluate(b"run SQL MAP now", ctx)
    assert operator.evaluate(b"cat /etc/passwd", ctx)
    assert not operator.evaluate(b"sqlmap", ctx)  # the inner space is part of the phrase
    assert not operator.evaluate(b"comment", ctx)
    assert not operator.evaluate(b"two  spaces", ctx)  # whitespace-only lines are skipped


def test_pmf_alias_and_several_files(tmp_path: Path, ctx: RecordingContext) -> None:
    (tmp_path / "a.data").write_text("alpha\n")
    (tmp_path / "b.data").write_text("beta\n")
    operator = build_operator("pmf", "a.data b.data", base_dir=tmp_path)
    assert operator.evaluate(b"xBETAx", ctx)
    assert operator.evaluate(b"alphabet", ctx)


def test_pm_from_file_absolute_path(tmp_path: Path, ctx: RecordingContext) -> None:
    path = tmp_path / "list.data"
    path.write_text("needle\n")
    assert build_operator("pmFromFile", str(path)).evaluate(b"haystack needle", ctx)


def test_pm_from_file_missing_file_names_it(tmp_path: Path) -> None:
    with pytest.raises(OperatorError) as caught:
        build_operator("pmFromFile", "missing.data", base_dir=tmp_path)
    assert "missing.data" in str(caught.value)
    assert "cannot read" in str(caught.value)


def test_pm_from_file_only_comments_is_rejected(tmp_path: Path) -> None:
    (tmp_path / "empty.data").write_text("# nothing\n\n")
    with pytest.raises(OperatorError, match="no phrases"):
        build_operator("pmFromFile", "empty.data", base_dir=tmp_path)


def test_pm_from_file_url_is_rejected() -> None:
    with pytest.raises(OperatorError, match="remote files"):
        build_operator("pmFromFile", "https://example.test/list.data")


def test_pm_from_file_reads_crs_data(crs_rules: Path, capturing: RecordingContext) -> None:
    operator = build_operator("pmFromFile", "scanners-user-agents.data", base_dir=crs_rules)
    assert operator.evaluate(b"Mozilla/5.0 (compatible; Nikto/2.5.0)", capturing)
    assert capturing.captures == [b"nikto"]
    assert not operator.evaluate(b"Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0", capturing)
