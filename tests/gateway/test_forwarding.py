from __future__ import annotations

from stockade.gateway.forwarding import (
    client_response_fields,
    connection_nominated,
    request_id_from,
    upstream_request_fields,
)
from stockade.http.fields import Fields


def build(fields: Fields, client: str = "192.0.2.1") -> Fields:
    return upstream_request_fields(
        fields,
        client_address=client,
        scheme="https",
        host=b"api.test",
        request_id="abc",
        request_id_header=b"X-Request-Id",
        upstream_host=None,
    )


def test_hop_by_hop_and_nominated_fields_removed() -> None:
    fields = Fields(
        [
            (b"Host", b"api.test"),
            (b"Connection", b"keep-alive, X-Secret"),
            (b"X-Secret", b"1"),
            (b"Keep-Alive", b"timeout=5"),
            (b"TE", b"trailers"),
            (b"Upgrade", b"websocket"),
            (b"Proxy-Authorization", b"Basic x"),
            (b"Content-Length", b"3"),
            (b"Accept", b"*/*"),
        ]
    )
    out = build(fields).to_text()
    for name in (
        "connection",
        "x-secret",
        "keep-alive",
        "te",
        "upgrade",
        "proxy-authorization",
        "content-length",
    ):
        assert name not in out
    assert out["accept"] == "*/*"
    assert out["host"] == "api.test"


def test_forwarding_fields_replaced_not_trusted() -> None:
    fields = Fields(
        [
            (b"X-Forwarded-For", b"10.0.0.1"),
            (b"Forwarded", b"for=10.0.0.1"),
            (b"X-Real-IP", b"10.0.0.1"),
        ]
    )
    out = build(fields).to_text()
    assert out["x-forwarded-for"] == "192.0.2.1"
    assert out["x-forwarded-proto"] == "https"
    assert out["x-forwarded-host"] == "api.test"
    assert out["forwarded"] == "for=192.0.2.1;proto=https;host=api.test"
    assert "x-real-ip" not in out


def test_forwarded_quotes_ipv6() -> None:
    out = build(Fields(), client="2001:db8::1").to_text()
    assert out["forwarded"].startswith('for="[2001:db8::1]"')


def test_request_id_accepted_or_generated() -> None:
    assert request_id_from(Fields([(b"X-Request-Id", b"req-123")]), b"x-request-id") == "req-123"
    generated = request_id_from(Fields([(b"X-Request-Id", b"bad id\x01")]), b"x-request-id")
    assert len(generated) == 32
    assert request_id_from(Fields(), b"x-request-id") != request_id_from(Fields(), b"x-request-id")


def test_request_id_sent_upstream_once() -> None:
    out = build(Fields([(b"X-Request-Id", b"spoofed")]))
    assert out.get_all(b"x-request-id") == [b"abc"]


def test_connection_nominated_lowercases() -> None:
    assert connection_nominated(
        Fields([(b"Connection", b"Close, X-A"), (b"connection", b"x-b")])
    ) == {b"close", b"x-a", b"x-b"}


def test_response_fields_drop_framing_and_add_request_id() -> None:
    out = client_response_fields(
        Fields(
            [
                (b"Transfer-Encoding", b"chunked"),
                (b"Content-Type", b"a/b"),
                (b"Connection", b"close"),
            ]
        ),
        "rid",
        b"X-Request-Id",
    ).to_text()
    assert out == {"content-type": "a/b", "x-request-id": "rid"}


def test_response_fields_drop_nominated_before_connection() -> None:
    fields = Fields(
        [
            (b"X-Internal", b"1"),
            (b"Content-Type", b"a/b"),
            (b"CONNECTION", b"keep-alive, X-Internal"),
            (b"connection", b"x-other"),
            (b"X-Other", b"2"),
        ]
    )
    out = client_response_fields(fields, "rid", b"X-Request-Id").items()
    assert out == [(b"Content-Type", b"a/b"), (b"X-Request-Id", b"rid")]


def test_request_fields_same_for_repeated_calls() -> None:
    fields = Fields([(b"Host", b"api.test"), (b"Connection", b"x-a"), (b"X-A", b"1")])
    first = build(fields)
    second = build(fields)
    assert first == second
    assert "x-a" not in first.to_text()
