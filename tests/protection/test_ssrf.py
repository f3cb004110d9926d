from __future__ import annotations

import pytest

from stockade.gateway.pipeline import CONTINUE, Phase
from stockade.protection.config import SsrfProtection
from stockade.protection.ssrf import SsrfStage, internal_reason, parse_ipv4_loose, split_url
from tests.protection.exchanges import exchange


@pytest.mark.parametrize(("host", "reason"), [
    ("127.0.0.1", "loopback"),
    ("127.1", "loopback"),
    ("2130706433", "loopback"),
    ("0x7f000001", "loopback"),
    ("0x7f.0.0.1", "loopback"),
    ("0177.0.0.1", "loopback"),
    ("017700000001", "loopback"),
    ("[::1]", "loopback"),
    ("[::ffff:127.0.0.1]", "loopback"),
    ("[::ffff:7f00:1]", "loopback"),
    ("[::127.0.0.1]", "loopback"),
    ("[2002:7f00:1::]", "loopback"),
    ("localhost", "loopback-name"),
    ("LOCALHOST.", "loopback-name"),
    ("api.localhost", "loopback-name"),
    ("%6c%6f%63%61%6c%68%6f%73%74", "loopback-name"),
    ("169.254.169.254", "metadata-address"),
    ("2852039166", "metadata-address"),
    ("[fd00:ec2::254]", "metadata-address"),
    ("100.100.100.200", "metadata-address"),
    ("metadata.google.internal", "metadata-name"),
    ("169.254.1.1", "link-local"),
    ("[fe80::1%25eth0]", "link-local"),
    ("10.0.0.1", "private"),
    ("172.16.5.4", "private"),
    ("192.168.1.1", "private"),
    ("[fc00::1]", "private"),
    ("100.64.0.1", "shared-address"),
    ("0.0.0.0", "unspecified"),
    ("0", "unspecified"),
    ("0x", "unspecified"),
])
def test_internal_hosts(host: str, reason: str) -> None:
    assert internal_reason(host) == reason


@pytest.mark.parametrize("host", [
    "93.184.216.34", "example.com", "8.8.8.8", "[2606:4700::1111]", "1.2.3", "256.1.1.1.1",
    "08.1.1.1", "",
])
def test_public_or_invalid_hosts_pass(host: str) -> None:
    assert internal_reason(host) is None


def test_parse_ipv4_loose_rejects_overflow() -> None:
    assert parse_ipv4_loose("1.2.3.256") is None
    assert parse_ipv4_loose("1.2.65536") is None
    assert str(parse_ipv4_loose("1.2.65535")) == "1.2.255.255"


@pytest.mark.parametrize(("value", "named", "expected"), [
    ("http://user:pw@127.0.0.1:8080/x", False, ("http", "127.0.0.1", 8080)),
    ("https://example.com@127.0.0.1/", False, ("https", "127.0.0.1", None)),
    ("http://[::1]:9000/", False, ("http", "[::1]", 9000)),
    ("http:\\\\127.0.0.1\\x", False, None),
    ("http://127.0.0.1\\@example.com/", False, ("http", "127.0.0.1", None)),
    ("//127.0.0.1/x", False, ("", "127.0.0.1", None)),
    ("127.0.0.1:6379", True, ("", "127.0.0.1", 6379)),
    ("127.0.0.1:6379", False, None),
    ("plain words", False, None),
])
def test_split_url(value: str, named: bool, expected: tuple[str, str, int | None] | None) -> None:
    assert split_url(value, named) == expected


def test_stage_rejects_internal_query_url() -> None:
    stage = SsrfStage(SsrfProtection())
    verdict = stage.check(exchange("GET", "/fetch?url=http%3A%2F%2F0177.1%3A8000%2F"),
                          Phase.REQUEST_HEADERS)
    assert verdict.reject
    assert verdict.status == 400
    assert verdict.events[0].evidence["reason"] == "loopback"
    assert verdict.events[0].evidence["parameter"] == "url"


def test_stage_reads_nested_json_and_schemes() -> None:
    stage = SsrfStage(SsrfProtection())
    body = {"hooks": [{"target": "file:///etc/passwd"}]}
    request = exchange("POST", "/hooks", json_body=body)
    assert stage.wants_request_body(request)
    verdict = stage.check(request, Phase.REQUEST_BODY)
    assert verdict.reject
    assert verdict.events[0].evidence["reason"] == "scheme-file"


def test_stage_passes_public_and_allowed_hosts() -> None:
    stage = SsrfStage(SsrfProtection(allow_hosts=["127.0.0.1:9999"]))
    body = {"url": "https://example.com/hook", "note": "see 127.0.0.1",
            "callback": "127.0.0.1:9999"}
    assert stage.check(exchange("POST", "/hooks", json_body=body), Phase.REQUEST_BODY) is CONTINUE


def test_stage_reads_form_bodies() -> None:
    stage = SsrfStage(SsrfProtection())
    request = exchange("POST", "/hooks", body=b"webhook=http%3A%2F%2F169.254.169.254%2F",
                       headers={"content-type": "application/x-www-form-urlencoded"})
    verdict = stage.check(request, Phase.REQUEST_BODY)
    assert verdict.reject
    assert verdict.events[0].evidence["reason"] == "metadata-address"
