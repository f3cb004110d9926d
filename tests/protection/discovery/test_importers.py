from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

from stockade.protection.discovery.analysis import Observation
from stockade.protection.discovery.importers import (
    ImportDefaults,
    ImportReport,
    detect_format,
    read_file,
)
from stockade.protection.discovery.importers.logs import parse_common_time


def har_entry(method: str, url: str, status: int, body: str | None = None) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "startedDateTime": "2024-05-01T12:00:00.000Z",
        "request": {
            "method": method,
            "url": url,
            "headers": [
                {"name": ":authority", "value": "shop.test"},
                {"name": "X-Trace", "value": "1"},
            ],
        },
        "response": {
            "status": status,
            "headers": [],
            "content": {"mimeType": "application/json", "text": json.dumps({"ok": True})},
        },
    }
    if body is not None:
        entry["request"]["postData"] = {"mimeType": "application/json", "text": body}
    return entry


def har_document(entries: list[dict[str, Any]]) -> str:
    return json.dumps({"log": {"version": "1.2", "entries": entries}}, indent=2)


def read(path: Path, **defaults: Any) -> tuple[list[Observation], ImportReport]:
    report = ImportReport()
    observations = list(read_file(path, report, ImportDefaults(**defaults)))
    return observations, report


def test_har_import(tmp_path: Path) -> None:
    path = tmp_path / "session.har"
    path.write_text(
        har_document(
            [
                har_entry("GET", "https://shop.test/api/users/1?x=1", 200),
                har_entry("POST", "https://shop.test/api/users", 201, body='{"name": "a"}'),
                har_entry("GET", "https://shop.test/missing", 404),
            ]
        )
    )
    observations, report = read(path)
    assert report.issues == []
    assert (report.records, report.skipped) == (2, 1)
    first, second = observations
    assert (first.method, first.target, first.status, first.service) == (
        "GET",
        "/api/users/1?x=1",
        200,
        "shop.test",
    )
    assert first.time == 1714564800.0
    assert (b"X-Trace", b"1") in (first.request_fields or [])
    assert all(not name.startswith(b":") for name, _ in first.request_fields or [])
    assert second.request_body == b'{"name": "a"}'
    assert (b"Content-Type", b"application/json") in (second.request_fields or [])


def test_truncated_har_keeps_valid_entries(tmp_path: Path) -> None:
    text = har_document(
        [har_entry("GET", f"https://shop.test/items/{index}", 200) for index in range(5)]
    )
    cut = text.index('"https://shop.test/items/3"')
    path = tmp_path / "cut.har"
    path.write_text(text[:cut])
    observations, report = read(path)
    assert [item.target for item in observations] == ["/items/0", "/items/1", "/items/2"]
    messages = [str(issue) for issue in report.issues]
    assert len(messages) == 2
    assert report.issues[0].line is not None
    assert report.issues[0].byte is not None
    assert "invalid HAR JSON" in messages[0]
    assert "entry 3 is truncated or invalid" in messages[1]
    assert f"{path}:" in messages[1]


def test_har_with_bad_entries(tmp_path: Path) -> None:
    path = tmp_path / "bad.har"
    path.write_text(
        har_document([{"request": {}}, har_entry("GET", "https://a.test/x", 200), "junk"])
    )
    observations, report = read(path, service="shop")
    assert [item.target for item in observations] == ["/x"]
    assert observations[0].service == "shop"
    assert [str(issue).split(": ", 1)[1] for issue in report.issues] == [
        "entry 0 skipped: entry has no request or response object",
        "entry 2 skipped: entry is not an object",
    ]


def test_not_a_har_file(tmp_path: Path) -> None:
    path = tmp_path / "x.har"
    path.write_text('{"entries": 1}')
    observations, report = read(path)
    assert observations == []
    assert "log.entries is missing" in str(report.issues[0])


def test_stockade_access_log(tmp_path: Path) -> None:
    lines = [
        {
            "time": 1700000000.5,
            "request_id": "r1",
            "tenant": "acme",
            "service": "shop",
            "method": "GET",
            "host": "shop.test",
            "path": "/users/1?x=2",
            "status": 200,
            "duration_ms": 3.1,
            "verdicts": [],
        },
        {
            "time": 1700000001,
            "request_id": "r2",
            "tenant": "acme",
            "service": "shop",
            "method": "GET",
            "host": "shop.test",
            "path": "/admin",
            "status": 403,
            "duration_ms": 1,
            "verdicts": [{"stage": "waf", "action": "reject", "status": 403, "reason": "sqli"}],
        },
    ]
    path = tmp_path / "access.log"
    path.write_text(
        "\n".join(json.dumps(line) for line in lines) + '\n{"time": 1700000002, "tenant": "ac'
    )
    observations, report = read(path)
    assert [(item.tenant, item.service, item.target, item.request_id) for item in observations] == [
        ("acme", "shop", "/users/1?x=2", "r1")
    ]
    assert report.skipped == 1
    (issue,) = report.issues
    assert issue.line == 3
    assert issue.byte == len(path.read_bytes().rsplit(b"\n", 1)[0]) + 1
    assert "truncated line" in issue.message


def test_nginx_json_log(tmp_path: Path) -> None:
    lines = [
        {
            "time_iso8601": "2024-05-01T12:00:00+00:00",
            "request_method": "GET",
            "request_uri": "/a/1?q=1",
            "status": "200",
            "http_host": "Shop.Test:443",
        },
        {
            "msec": "1714564800.123",
            "request": "POST /a HTTP/1.1",
            "status": 201,
            "host": "shop.test",
        },
        {"uri": "/b", "status": 200},
        {
            "time_local": "01/May/2024:12:00:00 +0000",
            "request_method": "GET",
            "uri": "/c",
            "args": "x=1",
            "status": 200,
        },
    ]
    path = tmp_path / "nginx.json"
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    observations, report = read(path, tenant="acme")
    assert [(item.method, item.target, item.status, item.service) for item in observations] == [
        ("GET", "/a/1?q=1", 200, "shop.test"),
        ("POST", "/a", 201, "shop.test"),
        ("GET", "/c?x=1", 200, "default"),
    ]
    assert observations[0].time == 1714564800.0
    assert observations[2].time == 1714564800.0
    (issue,) = report.issues
    assert issue.line == 3
    assert "neither request_method" in issue.message


def test_combined_log(tmp_path: Path) -> None:
    lines = [
        '203.0.113.7 - - [01/May/2024:14:00:00 +0200] "GET /shop/items/5?x=1 HTTP/1.1" 200 512 '
        '"-" "curl/8"',
        '203.0.113.7 - bob [01/May/2024:14:00:01 +0200] "POST /shop/items HTTP/1.1" 201 0 "-" '
        '"a \\"quoted\\" agent"',
        '203.0.113.7 - - [01/May/2024:14:00:02 +0200] "GET /shop/items/6 HTTP/1.1" 200 512 "-" '
        '"cur',
        "garbage line",
        '203.0.113.7 - - [41/Foo/2024:14:00:00 +0200] "GET / HTTP/1.1" 200 1 "-" "-"',
        '203.0.113.7 - - [01/May/2024:14:00:03 +0200] "\\x16\\x03\\x01" 400 0 "-" "-"',
    ]
    path = tmp_path / "access_log"
    path.write_text("\n".join(lines))
    assert detect_format(path) == "combined"
    observations, report = read(path, service="shop")
    assert [(item.method, item.target, item.status) for item in observations] == [
        ("GET", "/shop/items/5?x=1", 200),
        ("POST", "/shop/items", 201),
        ("GET", "/shop/items/6", 200),
    ]
    assert observations[0].time == 1714564800.0
    assert [issue.line for issue in report.issues] == [4, 5, 6]


def test_common_time_parsing() -> None:
    assert parse_common_time("01/May/2024:12:00:00 +0000") == 1714564800.0
    assert parse_common_time("01/May/2024:14:00:00 +0200") == 1714564800.0


def test_invalid_utf8_line(tmp_path: Path) -> None:
    path = tmp_path / "log.jsonl"
    path.write_bytes(
        b'{"method":"GET","path":"/a","status":200,"tenant":"t","service":"s"}\n\xff\xfe\n'
    )
    observations, report = read(path)
    assert len(observations) == 1
    assert (report.issues[0].line, report.issues[0].message) == (2, "not UTF-8 text")


def test_format_detection(tmp_path: Path) -> None:
    har = tmp_path / "a.json"
    har.write_text(har_document([]))
    assert detect_format(har) == "har"
    minified = tmp_path / "b.json"
    minified.write_text(json.dumps({"log": {"entries": []}}))
    assert detect_format(minified) == "har"
    lines = tmp_path / "c.json"
    lines.write_text('{"method": "GET"}\n')
    assert detect_format(lines) == "jsonl"


def test_gzip_logs_and_har(tmp_path: Path) -> None:
    lines = "".join(
        json.dumps(
            {
                "method": "GET",
                "path": f"/items/{index}",
                "status": 200,
                "tenant": "t",
                "service": "s",
            }
        )
        + "\n"
        for index in range(200)
    )
    log = tmp_path / "access.log.gz"
    log.write_bytes(gzip.compress(lines.encode()))
    assert detect_format(log) == "jsonl"
    observations, report = read(log)
    assert (len(observations), report.issues) == (200, [])

    har = tmp_path / "session.har.gz"
    har.write_bytes(
        gzip.compress(har_document([har_entry("GET", "https://a.test/x", 200)]).encode())
    )
    assert detect_format(har) == "har"
    observations, report = read(har)
    assert [item.target for item in observations] == ["/x"]


def test_truncated_gzip_keeps_what_came_before(tmp_path: Path) -> None:
    lines = "".join(
        json.dumps(
            {
                "method": "GET",
                "path": f"/items/{index}",
                "status": 200,
                "tenant": "t",
                "service": "s",
                "pad": "x" * (index % 50),
            }
        )
        + "\n"
        for index in range(5000)
    )
    data = gzip.compress(lines.encode())
    log = tmp_path / "cut.log.gz"
    log.write_bytes(data[: len(data) // 2])
    observations, report = read(log)
    assert 0 < len(observations) < 5000
    messages = [issue.message for issue in report.issues]
    assert any("gzip data is truncated" in message for message in messages)
    assert all(item.target.startswith("/items/") for item in observations)

    har = tmp_path / "cut.har.gz"
    text = har_document(
        [har_entry("GET", f"https://a.test/items/{index}", 200) for index in range(300)]
    )
    packed = gzip.compress(text.encode())
    har.write_bytes(packed[: len(packed) // 2])
    observations, report = read(har)
    assert 0 < len(observations) < 300
    assert "gzip data is truncated" in report.issues[0].message
    assert any("is truncated or invalid" in issue.message for issue in report.issues[1:])
