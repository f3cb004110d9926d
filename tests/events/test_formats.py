from __future__ import annotations

import json

import pytest

from stockade.events.cef import (
    escape_extension,
    escape_header,
    format_cef,
    format_syslog,
    frame_octet_counted,
    truncate_datagram,
)
from stockade.events.hec import hec_accepted, hec_body, hec_url
from stockade.events.model import Action, SecurityEvent, Severity
from stockade.events.serialization import EventDecodeError, decode_line, encode_line
from stockade.events.signing import sign, verify


def _event(**fields: object) -> SecurityEvent:
    values: dict[str, object] = {
        "tenant": "acme", "layer": "waf", "kind": "sqli", "severity": Severity.CRITICAL,
        "action": Action.BLOCKED, "message": "SQL injection | in ARGS:id", "time": 1700000000.25,
        "id": "e1", "client_ip": "192.0.2.9", "consumer": "mobile", "method": "GET",
        "path": "/orders?id=1=1", "rule_ids": ["942100", "942190"], "service": "orders",
        "evidence": {"matched": "1 OR 1=1"},
    }
    values.update(fields)
    return SecurityEvent(**values)  # type: ignore[arg-type]


def test_cef_escapes_header_and_extension() -> None:
    assert escape_header("a|b\\c\nd") == "a\\|b\\\\c d"
    assert escape_extension("a=b\\c\nd\re") == "a\\=b\\\\c\\nd\\re"


def test_cef_line_fields() -> None:
    line = format_cef(_event())
    header = line.split("|")
    assert header[:5] == ["CEF:0", "Stockade", "Stockade", "0.1.0", "waf:sqli"]
    assert "SQL injection \\| in ARGS:id" in line
    assert "|10|rt=1700000000250 " in line
    assert " src=192.0.2.9 " in line
    assert " suser=mobile " in line
    assert " request=/orders?id\\=1\\=1 " in line
    assert " cs4Label=ruleIds cs4=942100,942190 " in line
    assert " cs1Label=tenant cs1=acme " in line
    assert " externalId=e1 " in line


def test_cef_ipv6_client_uses_c6a2() -> None:
    line = format_cef(_event(client_ip="2001:db8::1"))
    assert " c6a2=2001:db8::1" in line
    assert " src=" not in line


def test_syslog_header_rfc5424() -> None:
    message = format_syslog(_event(severity=Severity.HIGH), facility=13, hostname="gw 1",
                            app_name="stockade", procid="42")
    text = message.decode()
    # PRI = 13 * 8 + 3 (error)
    assert text.startswith("<107>1 2023-11-14T22:13:20.250000Z gw_1 stockade 42 waf - CEF:0|")


def test_syslog_empty_hostname_is_nil() -> None:
    text = format_syslog(_event(), facility=1, hostname="", app_name="x").decode()
    assert text.split(" ")[2] == "-"


def test_octet_counting_frame() -> None:
    assert frame_octet_counted("é".encode()) == b"2 \xc3\xa9"


def test_truncate_keeps_utf8_whole() -> None:
    assert truncate_datagram("aé".encode(), 2) == b"a"
    assert truncate_datagram(b"abc", 10) == b"abc"


def test_hec_body_one_object_per_event() -> None:
    body = hec_body([_event(id="a"), _event(id="b")], host="gw", source="stockade",
                    sourcetype="stockade:security", index="sec")
    records = [json.loads(line) for line in body.decode().split("\n")]
    assert [record["event"]["id"] for record in records] == ["a", "b"]
    assert records[0]["index"] == "sec"
    assert records[0]["time"] == 1700000000.25
    assert records[0]["event"]["severity"] == "critical"
    assert hec_url("https://127.0.0.1:8088/") == "https://127.0.0.1:8088/services/collector/event"


@pytest.mark.parametrize(("status", "body", "accepted"), [
    (200, b'{"text":"Success","code":0}', True),
    (200, b'{"text":"Invalid token","code":4}', False),
    (503, b'{"text":"Server is busy","code":9}', False),
    (200, b"not json", False),
])
def test_hec_accepted(status: int, body: bytes, accepted: bool) -> None:
    assert hec_accepted(status, body) is accepted


def test_signature_verifies() -> None:
    key = b"k" * 32
    signature = sign(key, 1000, b'{"events":[]}')
    assert signature.startswith("sha256=")
    assert verify(key, "1000", b'{"events":[]}', signature, now=1100)
    assert not verify(key, "1000", b'{"events":[1]}', signature, now=1100)
    assert not verify(b"other", "1000", b'{"events":[]}', signature, now=1100)
    assert not verify(key, "1000", b'{"events":[]}', signature, now=5000)
    assert not verify(key, "abc", b'{"events":[]}', signature, now=1100)


def test_json_line_round_trip() -> None:
    event = _event()
    assert decode_line(encode_line(event)) == event


@pytest.mark.parametrize("line", [b"{", b"[]", b'{"tenant":"a"}', b"\xff"])
def test_json_line_invalid(line: bytes) -> None:
    with pytest.raises(EventDecodeError):
        decode_line(line)


def test_url_origin_hides_path_and_credentials() -> None:
    from stockade.events.sinks.base import url_origin

    assert url_origin("https://127.0.0.1:9443/hooks/T0/B0/secret?x=1") == "https://127.0.0.1:9443"
    assert url_origin("http://user:pw@127.0.0.1/x") == "http://127.0.0.1"
