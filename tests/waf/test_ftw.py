"""The go-ftw runner's request building, server emulation and output checks."""

from __future__ import annotations

from pathlib import Path

import pytest

from stockade.waf.ftw.__main__ import main
from stockade.waf.ftw.cases import Expectation, build_request, expand_templates, load_cases
from stockade.waf.ftw.raw import dechunk, parse_raw_request
from stockade.waf.ftw.runner import as_server_passes_it, backend_response, check


def test_repeat_template_expands() -> None:
    assert expand_templates('a{{ "xy" | repeat 3 }}b') == "axyxyxyb"
    assert expand_templates("{{ other }}") == "{{ other }}"


def test_build_request_adds_length_and_form_type() -> None:
    request = build_request({"method": "POST", "uri": "/p", "data": "a=1"})
    assert (b"Content-Length", b"3") in request.headers
    assert (b"Content-Type", b"application/x-www-form-urlencoded") in request.headers
    assert request.client_address != "127.0.0.1"


def test_build_request_without_version_is_http09() -> None:
    assert build_request({"version": ""}).protocol == b"HTTP/0.9"


def test_dechunk_and_server_view() -> None:
    assert dechunk(b"3\r\nabc\r\n2;x=y\r\nde\r\n0\r\n\r\n") == b"abcde"
    request = parse_raw_request(
        b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 9\r\n\r\n"
        b"1\r\na\r\n0\r\n\r\n", "127.0.0.2")
    seen = as_server_passes_it(request)
    assert seen.body == b"a"
    assert all(name.lower() != b"content-length" for name, _ in seen.headers)


def test_reflect_builds_described_response() -> None:
    request = build_request({"method": "POST", "uri": "/reflect",
                             "data": '{"status": 500, "body": "boom"}'})
    response = backend_response(request)
    assert response.status == 500
    assert response.body == b"boom"


def test_check_reports_each_mismatch() -> None:
    expectation = Expectation(expect_ids={1}, no_expect_ids={2})
    assert check(expectation, [1], []) == ""
    assert "expected ids [1]" in check(expectation, [], [])
    assert "ids [2] logged" in check(expectation, [1, 2], [])
    pattern = Expectation(log_patterns=['id "7"'])
    assert check(pattern, [7], ['[id "7"]']) == ""
    assert "does not match" in check(pattern, [], [])


def test_load_cases_reads_v4_format(tmp_path: Path) -> None:
    (tmp_path / "1.yaml").write_text(
        "rule_id: 920100\ntests:\n  - test_id: 4\n    stages:\n      - input: {uri: /x}\n"
        "        output: {log: {expect_ids: [920100]}}\n")
    [case] = load_cases(tmp_path)
    assert case.key == "920100-4"
    assert case.stages[0].expectation.expect_ids == {920100}


def test_cli_reports_missing_rules(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--rules", str(tmp_path), "--tests", str(tmp_path)]) == 2
    assert "cannot load the rules" in capsys.readouterr().err
