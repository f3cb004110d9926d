"""Read go-ftw YAML test files, in the CRS v4 format and the older v3 format."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from stockade.waf.ftw.raw import parse_raw_request
from stockade.waf.request import WafRequest


@dataclass(slots=True)
class Expectation:
    expect_ids: set[int] = field(default_factory=set)
    no_expect_ids: set[int] = field(default_factory=set)
    log_patterns: list[str] = field(default_factory=list)  # regexes that must match the log
    no_log_patterns: list[str] = field(default_factory=list)
    status: list[int] = field(default_factory=list)
    expect_error: bool = False
    response_contains: str | None = None

    def checks_log(self) -> bool:
        return bool(self.expect_ids or self.no_expect_ids or self.log_patterns
                    or self.no_log_patterns)


@dataclass(slots=True)
class Stage:
    request: WafRequest | None  # None when the input cannot be turned into a request
    expectation: Expectation
    problem: str = ""  # why request is None


@dataclass(slots=True)
class Case:
    rule_id: int
    test_id: str  # "1" in v4 files, "920100-1" titles in v3 files
    path: Path
    stages: list[Stage]

    @property
    def key(self) -> str:
        return f"{self.rule_id}-{self.test_id}"


TEST_CLIENT_ADDRESS = "127.0.0.2"
"""The simulated client: loopback, but not 127.0.0.1, which CRS rules 905100 and 905110
exempt as httpd's own health checks (the CRS test clients run on another host)."""


def load_cases(tests_dir: Path) -> list[Case]:
    cases: list[Case] = []
    for path in sorted(tests_dir.rglob("*.yaml")):
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
        if not isinstance(document, dict) or "tests" not in document:
            continue
        cases.extend(_cases_of(document, path))
    return cases


def _cases_of(document: dict[str, Any], path: Path) -> list[Case]:
    file_rule = document.get("rule_id")
    default_rule = int(file_rule) if file_rule is not None else _rule_from_name(path)
    cases: list[Case] = []
    for index, test in enumerate(document["tests"], start=1):
        if "test_id" in test:
            test_id = str(test["test_id"])
        else:
            title = str(test.get("test_title", index))
            test_id = title.rsplit("-", 1)[-1]
        stages = [_stage(item.get("stage", item)) for item in test.get("stages", [])]
        cases.append(Case(default_rule, test_id, path, stages))
    return cases


def _rule_from_name(path: Path) -> int:
    stem = path.stem.split("-")[0].split(".")[0]
    return int(stem) if stem.isdigit() else 0


def _stage(stage: dict[str, Any]) -> Stage:
    expectation = _expectation(stage.get("output") or {})
    data = stage.get("input") or {}
    try:
        request = build_request(data)
    except ValueError as error:
        return Stage(None, expectation, str(error))
    return Stage(request, expectation)


def _expectation(output: dict[str, Any]) -> Expectation:
    result = Expectation()
    log = output.get("log") or {}
    result.expect_ids = {int(item) for item in log.get("expect_ids") or []}
    result.no_expect_ids = {int(item) for item in log.get("no_expect_ids") or []}
    result.log_patterns = _as_list(log.get("match_regex")) + _as_list(output.get("log_contains"))
    result.no_log_patterns = (_as_list(log.get("no_match_regex"))
                              + _as_list(output.get("no_log_contains")))
    status = output.get("status")
    result.status = [int(item) for item in _as_list(status)]
    result.expect_error = bool(output.get("expect_error"))
    contains = output.get("response_contains")
    result.response_contains = str(contains) if contains is not None else None
    return result


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def build_request(data: dict[str, Any]) -> WafRequest:
    """Build the request a go-ftw client would send for one stage's ``input``."""
    if data.get("encoded_request"):
        return parse_raw_request(base64.b64decode(str(data["encoded_request"])),
                                 TEST_CLIENT_ADDRESS)
    if data.get("raw_request"):
        return parse_raw_request(str(data["raw_request"]).encode("utf-8", "surrogateescape"),
                                 TEST_CLIENT_ADDRESS)
    method = str(data.get("method", "GET"))
    uri = str(data.get("uri", "/"))
    version = str(data.get("version", "HTTP/1.1"))
    headers = [(str(name).encode("utf-8", "surrogateescape"),
                str(value).encode("utf-8", "surrogateescape"))
               for name, value in (data.get("headers") or {}).items()]
    body = _body(data.get("data"))
    names = {name.lower() for name, _ in headers}
    autocomplete = data.get("autocomplete_headers", True) and not data.get("stop_magic")
    if body and autocomplete and b"content-length" not in names \
            and b"transfer-encoding" not in names:
        headers.append((b"Content-Length", str(len(body)).encode()))
    if body and autocomplete and b"content-type" not in names:
        # go-ftw sends form data by default when a test gives a body without a type.
        headers.append((b"Content-Type", b"application/x-www-form-urlencoded"))
    # A request line without a version is HTTP/0.9 to a server (RFC 1945).
    protocol = version.encode() if version else b"HTTP/0.9"
    return WafRequest(
        method=method.encode("utf-8", "surrogateescape"),
        target=uri.encode("utf-8", "surrogateescape"),
        protocol=protocol,
        headers=headers,
        body=body,
        client_address=TEST_CLIENT_ADDRESS,
        server_port=int(data.get("port", 80)),
    )


def _body(data: Any) -> bytes:
    if data is None:
        return b""
    if isinstance(data, list):
        return "\r\n".join(str(line) for line in data).encode("utf-8", "surrogateescape")
    return expand_templates(str(data)).encode("utf-8", "surrogateescape")


def expand_templates(text: str) -> str:
    """Expand go-ftw's ``{{ "x" | repeat N }}``; other template text stays as written."""
    parts: list[str] = []
    index = 0
    while (start := text.find("{{", index)) >= 0:
        end = text.find("}}", start)
        if end < 0:
            break
        parts.append(text[index:start])
        parts.append(_repeat(text[start + 2:end]) or text[start:end + 2])
        index = end + 2
    parts.append(text[index:])
    return "".join(parts)


def _repeat(expression: str) -> str | None:
    literal, bar, call = expression.partition("|")
    words = call.split()
    literal = literal.strip()
    if not bar or len(words) != 2 or words[0] != "repeat" or not words[1].isdigit():
        return None
    if len(literal) < 2 or literal[0] != '"' or literal[-1] != '"':
        return None
    return literal[1:-1] * int(words[1])
