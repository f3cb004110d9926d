"""Serialization of heads and chunks, and its round trip through the parsers."""

from __future__ import annotations

import pytest

from stockade.http.fields import Fields
from stockade.http.messages import EndOfMessage, RequestHead, ResponseHead
from stockade.http.parser import ParserLimits, RequestParser, ResponseParser
from stockade.http.serialize import (
    LAST_CHUNK,
    encode_chunk,
    encode_last_chunk,
    serialize_fields,
    serialize_request_head,
    serialize_response_head,
)
from tests.http.support import body_of, feed_all


def test_request_head_bytes() -> None:
    fields = Fields([(b"Host", b"a.example"), (b"X-Id", b"1")])
    assert serialize_request_head(b"GET", b"/x?y", fields) == (
        b"GET /x?y HTTP/1.1\r\nHost: a.example\r\nX-Id: 1\r\n\r\n"
    )


def test_response_head_bytes() -> None:
    fields = Fields([(b"Content-Length", b"0")])
    assert serialize_response_head(404, b"Not Found", fields) == (
        b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"
    )


def test_chunks() -> None:
    assert encode_chunk(b"hello world, this is 28 bytes") == (
        b"1d\r\nhello world, this is 28 bytes\r\n"
    )
    assert encode_chunk(b"") == b""
    assert LAST_CHUNK == b"0\r\n\r\n"
    assert encode_last_chunk() == LAST_CHUNK
    assert encode_last_chunk(Fields([(b"X-Sum", b"1")])) == b"0\r\nX-Sum: 1\r\n\r\n"


@pytest.mark.parametrize(
    "fields",
    [Fields([(b"X-A", b"a\r\nX-Injected: 1")]), Fields([(b"X-A", b"a\nb")]),
     Fields([(b"X-A", b"a\rb")]), Fields([(b"X-A", b"a\x00b")]),
     Fields([(b"X-A\r\nB", b"1")]), Fields([(b"", b"1")])],
    ids=["crlf-in-value", "lf-in-value", "cr-in-value", "nul-in-value", "crlf-in-name",
         "empty-name"],
)
def test_injection_rejected(fields: Fields) -> None:
    with pytest.raises(ValueError, match="field"):
        serialize_request_head(b"GET", b"/", fields)


@pytest.mark.parametrize(
    ("method", "target"),
    [(b"GET", b"/a b"), (b"GET", b"/a\r\nb"), (b"G T", b"/")],
)
def test_invalid_request_line_rejected(method: bytes, target: bytes) -> None:
    with pytest.raises(ValueError, match="request line"):
        serialize_request_head(method, target, Fields())


def test_invalid_reason_and_status_rejected() -> None:
    with pytest.raises(ValueError, match="reason"):
        serialize_response_head(200, b"OK\r\nX: 1", Fields())
    with pytest.raises(ValueError, match="status"):
        serialize_response_head(20, b"OK", Fields())


def test_request_round_trip() -> None:
    fields = Fields([(b"Host", b"a.example"), (b"Transfer-Encoding", b"chunked")])
    data = (serialize_request_head(b"POST", b"/up", fields) + encode_chunk(b"abc")
            + encode_chunk(b"defg") + encode_last_chunk(Fields([(b"X-Sum", b"9")])))
    events = feed_all(RequestParser(ParserLimits()), data)
    head, end = events[0], events[-1]
    assert isinstance(head, RequestHead)
    assert head.fields == fields
    assert body_of(events) == b"abcdefg"
    assert isinstance(end, EndOfMessage)
    assert end.trailers == Fields([(b"X-Sum", b"9")])


def test_response_round_trip() -> None:
    fields = Fields([(b"Content-Length", b"2"), (b"Content-Type", b"text/plain")])
    parser = ResponseParser(ParserLimits())
    parser.expect(b"GET")
    events = feed_all(parser, serialize_response_head(200, b"OK", fields) + b"hi")
    head = events[0]
    assert isinstance(head, ResponseHead)
    assert head.fields == fields
    assert body_of(events) == b"hi"


@pytest.mark.parametrize(
    "items",
    [[(b"X-A", b"1"), (b"", b"2")], [(b"X A", b"1")], [(b"X:A", b"1")],
     [(b"X-A", b"1"), (b"X-B", b"2\x00")], [(b"X-A", b"1"), (b"X-B", b"2\r\n")]],
    ids=["empty-second-name", "space-in-name", "colon-in-name", "nul-in-second-value",
         "crlf-in-second-value"],
)
def test_bad_field_rejected_everywhere(items: list[tuple[bytes, bytes]]) -> None:
    with pytest.raises(ValueError, match="field"):
        serialize_request_head(b"GET", b"/", items)
    with pytest.raises(ValueError, match="field"):
        serialize_response_head(200, b"OK", items)
    with pytest.raises(ValueError, match="field"):
        serialize_fields(Fields(items))


def test_nul_in_target_rejected() -> None:
    with pytest.raises(ValueError, match="request line"):
        serialize_request_head(b"GET", b"/a\x00", Fields([(b"Host", b"a")]))


def test_extra_fields_follow_the_others() -> None:
    head = serialize_request_head(
        b"POST", b"/", [(b"Host", b"a")], ((b"Content-Length", b"2"),)
    )
    assert head == b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\n"
