"""Responses from an upstream: framing per status and method, interim heads, errors."""

from __future__ import annotations

import pytest

from stockade.http.errors import ProtocolError
from stockade.http.messages import NEED_DATA, BodyFraming, Data, EndOfMessage, ResponseHead
from stockade.http.parser import ParserLimits, ResponseParser
from tests.http.support import body_of, feed_all


def parser_for(method: bytes = b"GET", **limits: int | None) -> ResponseParser:
    parser = ResponseParser(ParserLimits(**limits))  # type: ignore[arg-type]
    parser.expect(method)
    return parser


def response_error(data: bytes, method: bytes = b"GET") -> ProtocolError:
    parser = parser_for(method)
    parser.feed(data)
    with pytest.raises(ProtocolError) as caught:
        while parser.next_event() is not NEED_DATA:
            pass
    return caught.value


def test_content_length_response() -> None:
    events = feed_all(parser_for(), b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi")
    head = events[0]
    assert isinstance(head, ResponseHead)
    assert (head.status, head.reason, head.version) == (200, b"OK", b"1.1")
    assert head.framing is BodyFraming.LENGTH
    assert head.keep_alive
    assert body_of(events) == b"hi"


def test_chunked_response_with_trailers_byte_by_byte() -> None:
    data = (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"4\r\nwiki\r\n5\r\npedia\r\n0\r\nServer-Timing: db;dur=53\r\n\r\n")
    events = feed_all(parser_for(), data, bytewise=True)
    assert body_of(events) == b"wikipedia"
    end = events[-1]
    assert isinstance(end, EndOfMessage)
    assert end.trailers.get(b"server-timing") == b"db;dur=53"


def test_close_delimited_response() -> None:
    parser = parser_for()
    parser.feed(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nsome ")
    head = parser.next_event()
    assert isinstance(head, ResponseHead)
    assert head.framing is BodyFraming.CLOSE
    assert not head.keep_alive
    assert parser.next_event() == Data(b"some ")
    assert parser.next_event() is NEED_DATA
    parser.feed(b"body")
    assert parser.next_event() == Data(b"body")
    parser.feed_eof()
    assert parser.next_event() == EndOfMessage()


def test_close_delimited_response_body_limit() -> None:
    parser = parser_for(max_body_bytes=4)
    parser.feed(b"HTTP/1.1 200 OK\r\n\r\nhello")
    assert isinstance(parser.next_event(), ResponseHead)
    with pytest.raises(ProtocolError) as caught:
        parser.next_event()
    assert caught.value.status == 502


@pytest.mark.parametrize("status", [204, 304])
def test_no_body_statuses(status: int) -> None:
    parser = parser_for()
    parser.feed(b"HTTP/1.1 %d X\r\nContent-Length: 10\r\n\r\nHTTP/1.1 200 OK\r\n" % status)
    head = parser.next_event()
    assert isinstance(head, ResponseHead)
    assert head.framing is BodyFraming.NONE
    assert head.content_length == 10
    assert parser.next_event() == EndOfMessage()
    assert parser.buffered == len(b"HTTP/1.1 200 OK\r\n")


def test_head_response_has_no_body() -> None:
    parser = parser_for(b"HEAD")
    parser.feed(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n")
    head = parser.next_event()
    assert isinstance(head, ResponseHead)
    assert head.framing is BodyFraming.NONE
    assert head.content_length == 1000
    assert parser.next_event() == EndOfMessage()
    parser.start_next_message()
    parser.expect(b"GET")
    parser.feed(b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx")
    assert isinstance(parser.next_event(), ResponseHead)
    assert parser.next_event() == Data(b"x")


def test_head_response_with_chunked_has_no_body() -> None:
    parser = parser_for(b"HEAD")
    parser.feed(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
    head = parser.next_event()
    assert isinstance(head, ResponseHead)
    assert head.framing is BodyFraming.NONE
    assert parser.next_event() == EndOfMessage()


def test_interim_responses_then_final() -> None:
    parser = parser_for(b"POST")
    parser.feed(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"
                b"HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n")
    statuses = []
    while not isinstance(event := parser.next_event(), EndOfMessage):
        assert isinstance(event, ResponseHead)
        statuses.append(event.status)
    assert statuses == [100, 103, 201]


def test_keep_alive_responses_in_sequence() -> None:
    parser = ResponseParser(ParserLimits())
    for index in range(3):
        parser.expect(b"GET")
        parser.feed(b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n%d" % index)
        assert isinstance(parser.next_event(), ResponseHead)
        assert parser.next_event() == Data(b"%d" % index)
        assert parser.next_event() == EndOfMessage()
        parser.start_next_message()
    assert parser.buffered == 0


@pytest.mark.parametrize(
    ("connection", "version", "keep_alive"),
    [(b"", b"HTTP/1.1", True), (b"Connection: close\r\n", b"HTTP/1.1", False),
     (b"", b"HTTP/1.0", False), (b"Connection: keep-alive\r\n", b"HTTP/1.0", True)],
)
def test_response_keep_alive(connection: bytes, version: bytes, keep_alive: bool) -> None:
    parser = parser_for()
    parser.feed(version + b" 200 OK\r\n" + connection + b"Content-Length: 0\r\n\r\n")
    head = parser.next_event()
    assert isinstance(head, ResponseHead)
    assert head.keep_alive is keep_alive


@pytest.mark.parametrize(
    ("line", "status", "reason"),
    [(b"HTTP/1.1 200", 200, b""), (b"HTTP/1.1 200 ", 200, b""),
     (b"HTTP/1.1 404 Not  Found\tnow", 404, b"Not  Found\tnow")],
)
def test_status_line_reason_forms(line: bytes, status: int, reason: bytes) -> None:
    parser = parser_for()
    parser.feed(line + b"\r\nContent-Length: 0\r\n\r\n")
    head = parser.next_event()
    assert isinstance(head, ResponseHead)
    assert (head.status, head.reason) == (status, reason)


@pytest.mark.parametrize(
    "data",
    [
        b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
        b"HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nConnection: content-length\r\nContent-Length: 1\r\n\r\nx",
        b"HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n",
        b"HTTP/1.1 2000 OK\r\n\r\n",
        b"HTTP/1.1 099 Low\r\n\r\n",
        b"HTTP/1.1 600 High\r\n\r\n",
        b"HTTP/2 200 OK\r\n\r\n",
        b"HTTP/1.1 20x OK\r\n\r\n",
        b"HTTP/1.1  200 OK\r\n\r\n",
        b"ICY 200 OK\r\n\r\n",
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nX: a\r\n b\r\nContent-Length: 0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcd\r\n0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nContent-Length: 3\r\n\r\n",
    ],
    ids=["cl-and-te", "duplicate-cl", "te-gzip", "te-in-http10", "connection-names-cl",
         "bare-lf", "four-digit-status", "status-below-100", "status-above-599",
         "http2-version", "status-not-digits", "double-space", "not-http", "upgrade",
         "obs-fold", "chunk-mismatch", "forbidden-trailer"],
)
def test_invalid_response_is_bad_gateway(data: bytes) -> None:
    error = response_error(data)
    assert error.status == 502
    assert error.reason.startswith("invalid upstream response")


def test_response_head_too_large_is_bad_gateway() -> None:
    parser = parser_for(max_header_bytes=64)
    parser.feed(b"HTTP/1.1 200 OK\r\nX-Pad: " + b"a" * 100)
    with pytest.raises(ProtocolError) as caught:
        parser.next_event()
    assert caught.value.status == 502


def test_response_closed_inside_body() -> None:
    parser = parser_for()
    parser.feed(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab")
    parser.feed_eof()
    assert isinstance(parser.next_event(), ResponseHead)
    assert parser.next_event() == Data(b"ab")
    with pytest.raises(ProtocolError) as caught:
        parser.next_event()
    assert caught.value.status == 502


def test_upstream_closed_before_response() -> None:
    parser = parser_for()
    parser.feed_eof()
    assert parser.next_event() is NEED_DATA


def test_response_without_expect_is_misuse() -> None:
    parser = ResponseParser(ParserLimits())
    parser.feed(b"HTTP/1.1 200 OK\r\n\r\n")
    with pytest.raises(RuntimeError):
        parser.next_event()


def test_start_next_message_forgets_the_method() -> None:
    parser = parser_for(b"HEAD")
    parser.feed(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n")
    assert isinstance(parser.next_event(), ResponseHead)
    assert parser.next_event() == EndOfMessage()
    parser.start_next_message()
    parser.feed(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
    with pytest.raises(RuntimeError):
        parser.next_event()


def test_take_length_body_whole_and_in_parts() -> None:
    parser = parser_for()
    parser.feed(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel")
    assert isinstance(parser.next_event(), ResponseHead)
    assert parser.take_length_body() == (b"hel", False)
    assert parser.take_length_body() == (b"", False)
    parser.feed(b"loHTTP/1.1")
    assert parser.take_length_body() == (b"lo", True)
    assert parser.buffered == len(b"HTTP/1.1")
    parser.start_next_message()
    parser.expect(b"GET")
    parser.feed(b" 204 No Content\r\n\r\n")
    assert isinstance(parser.next_event(), ResponseHead)
    assert parser.take_length_body() == (b"", True)


def test_take_length_body_leaves_other_framings() -> None:
    parser = parser_for()
    parser.feed(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n")
    assert isinstance(parser.next_event(), ResponseHead)
    assert parser.take_length_body() is None
    assert parser.next_event() == Data(b"hi")


def test_take_length_body_after_close_uses_next_event() -> None:
    parser = parser_for()
    parser.feed(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel")
    parser.feed_eof()
    assert isinstance(parser.next_event(), ResponseHead)
    assert parser.take_length_body() is None
    assert parser.next_event() == Data(b"hel")
    with pytest.raises(ProtocolError, match="2 body bytes missing"):
        parser.next_event()
