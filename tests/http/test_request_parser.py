"""Valid requests: heads, keep-alive, pipelining, streamed bodies, parser state."""

from __future__ import annotations

import pytest

from stockade.http.errors import ProtocolError
from stockade.http.messages import NEED_DATA, BodyFraming, Data, EndOfMessage, RequestHead
from stockade.http.parser import ParserLimits, RequestParser
from tests.http.support import all_messages, body_of, request_error, request_events

SIMPLE_GET = b"GET /a/b?x=1 HTTP/1.1\r\nHost: API.Example:8443\r\nAccept: */*\r\n\r\n"


def new_parser(**limits: int | None) -> RequestParser:
    return RequestParser(ParserLimits(**limits))  # type: ignore[arg-type]


def head_of(data: bytes) -> RequestHead:
    head = request_events(data)[0]
    assert isinstance(head, RequestHead)
    return head


def test_head_fields_and_target() -> None:
    head = head_of(SIMPLE_GET)
    assert head.method == b"GET"
    assert head.target == b"/a/b?x=1"
    assert head.path == b"/a/b"
    assert head.query == b"x=1"
    assert head.version == b"1.1"
    assert head.authority == b"api.example:8443"
    assert head.host == b"api.example"
    assert head.fields.items() == [(b"Host", b"API.Example:8443"), (b"Accept", b"*/*")]
    assert head.framing is BodyFraming.NONE
    assert head.content_length is None


def test_field_values_trimmed_of_whitespace() -> None:
    head = head_of(b"GET / HTTP/1.1\r\nHost:a.example\r\nX-A: \t a b \t\r\nX-Empty:\r\n\r\n")
    assert head.fields.get(b"x-a") == b"a b"
    assert head.fields.get(b"x-empty") == b""
    assert head.authority == b"a.example"


def test_ipv6_host() -> None:
    head = head_of(b"GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n")
    assert head.authority == b"[::1]:8080"
    assert head.host == b"[::1]"


def test_obs_text_allowed_in_values_and_target() -> None:
    head = head_of(b"GET /caf\xc3\xa9 HTTP/1.1\r\nHost: a.example\r\nX-Name: Jos\xc3\xa9\r\n\r\n")
    assert head.target == b"/caf\xc3\xa9"
    assert head.fields.get(b"x-name") == b"Jos\xc3\xa9"


@pytest.mark.parametrize(
    ("version", "connection", "keep_alive"),
    [(b"HTTP/1.1", None, True), (b"HTTP/1.1", b"close", False),
     (b"HTTP/1.1", b"Keep-Alive, Close", False), (b"HTTP/1.0", None, False),
     (b"HTTP/1.0", b"keep-alive", True), (b"HTTP/1.0", b"Upgrade, Keep-Alive", True)],
)
def test_keep_alive_per_version_and_connection(
    version: bytes, connection: bytes | None, keep_alive: bool
) -> None:
    field = b"Connection: " + connection + b"\r\n" if connection is not None else b""
    head = head_of(b"GET / " + version + b"\r\nHost: a.example\r\n" + field + b"\r\n")
    assert head.keep_alive is keep_alive


def test_http10_without_host_has_empty_authority() -> None:
    head = head_of(b"GET / HTTP/1.0\r\n\r\n")
    assert head.authority == b""
    assert head.version == b"1.0"


def test_http10_absolute_form_without_host() -> None:
    head = head_of(b"GET http://a.example HTTP/1.0\r\n\r\n")
    assert head.authority == b"a.example"
    assert head.target == b"/"


def test_absolute_form_query_without_path() -> None:
    head = head_of(b"GET https://a.example?x=1 HTTP/1.1\r\nHost: a.example\r\n\r\n")
    assert head.target == b"/?x=1"


def test_options_asterisk() -> None:
    head = head_of(b"OPTIONS * HTTP/1.1\r\nHost: a.example\r\n\r\n")
    assert head.target == b"*"


def test_custom_token_method() -> None:
    assert head_of(b"PROPFIND / HTTP/1.1\r\nHost: a.example\r\n\r\n").method == b"PROPFIND"


def test_content_length_body() -> None:
    events = request_events(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello")
    head = events[0]
    assert isinstance(head, RequestHead)
    assert head.framing is BodyFraming.LENGTH
    assert head.content_length == 5
    assert body_of(events) == b"hello"
    assert isinstance(events[-1], EndOfMessage)


def test_content_length_zero_is_length_framing() -> None:
    events = request_events(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n")
    head = events[0]
    assert isinstance(head, RequestHead)
    assert head.framing is BodyFraming.LENGTH
    assert head.content_length == 0
    assert events[1:] == [EndOfMessage()]


def test_content_length_leading_zeros() -> None:
    events = request_events(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 003\r\n\r\nabc")
    assert body_of(events) == b"abc"


def test_chunked_with_extensions_and_trailers() -> None:
    data = (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"5;name=value\r\nhello\r\n6;q=\"a;b\"\r\n world\r\n"
            b"0;last\r\nX-Checksum: abc\r\nX-Other: 1\r\n\r\n")
    for bytewise in (False, True):
        events = request_events(data, bytewise=bytewise)
        assert body_of(events) == b"hello world"
        end = events[-1]
        assert isinstance(end, EndOfMessage)
        assert end.trailers.items() == [(b"X-Checksum", b"abc"), (b"X-Other", b"1")]


def test_chunk_sizes_in_hex_any_case() -> None:
    body = b"A\r\n0123456789\r\na\r\n0123456789\r\n0\r\n\r\n"
    events = request_events(b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                            + body)
    assert body_of(events) == b"0123456789" * 2


def test_sixteen_digit_chunk_size_accepted() -> None:
    parser = new_parser()
    parser.feed(b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                b"0000000000000003\r\nabc\r\n0\r\n\r\n")
    events = all_messages(parser, b"")
    assert body_of(events) == b"abc"


@pytest.mark.parametrize("framing", ["length", "chunked"])
def test_body_split_at_every_byte(framing: str) -> None:
    body = b"The quick brown fox jumps over the lazy dog"
    if framing == "length":
        data = b"PUT /x HTTP/1.1\r\nHost: a\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
    else:
        data = (b"PUT /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                b"10\r\n" + body[:16] + b"\r\n1b;x=\"y\"\r\n" + body[16:] + b"\r\n0\r\n\r\n")
    for split in range(1, len(data)):
        parser = new_parser()
        events = all_messages(parser, data[:split]) + all_messages(parser, data[split:])
        assert body_of(events) == body, split
        assert isinstance(events[-1], EndOfMessage), split
    events = request_events(data, bytewise=True)
    assert body_of(events) == body
    assert all(len(event.data) == 1 for event in events if isinstance(event, Data))


def test_body_streamed_before_it_is_complete() -> None:
    parser = new_parser()
    parser.feed(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nhel")
    assert isinstance(parser.next_event(), RequestHead)
    assert parser.next_event() == Data(b"hel")
    assert parser.next_event() is NEED_DATA
    parser.feed(b"lo world")
    assert parser.next_event() == Data(b"lo worl")
    assert parser.next_event() == EndOfMessage()
    assert parser.buffered == 1  # "d" stays for the next message


def test_chunked_body_streamed_inside_a_chunk() -> None:
    parser = new_parser()
    parser.feed(b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n10\r\nabc")
    assert isinstance(parser.next_event(), RequestHead)
    assert parser.next_event() == Data(b"abc")
    assert parser.next_event() is NEED_DATA


def test_keep_alive_sequence_of_requests() -> None:
    parser = new_parser()
    for index in range(3):
        parser.feed(b"GET /%d HTTP/1.1\r\nHost: a\r\n\r\n" % index)
        head = parser.next_event()
        assert isinstance(head, RequestHead)
        assert head.target == b"/%d" % index
        assert parser.next_event() == EndOfMessage()
        parser.start_next_message()
    assert parser.next_event() is NEED_DATA
    assert parser.buffered == 0


def test_pipelined_requests_in_one_feed() -> None:
    data = (b"POST /1 HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc"
            b"POST /2 HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nde\r\n0\r\n\r\n"
            b"GET /3 HTTP/1.1\r\nHost: a\r\n\r\n")
    for bytewise in (False, True):
        events = all_messages(new_parser(), data, bytewise=bytewise)
        targets = [event.target for event in events if isinstance(event, RequestHead)]
        assert targets == [b"/1", b"/2", b"/3"]
        assert body_of(events) == b"abcde"
        assert sum(isinstance(event, EndOfMessage) for event in events) == 3


def test_pipelined_bytes_stay_buffered_until_next_message() -> None:
    parser = new_parser()
    parser.feed(b"GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\n")
    assert isinstance(parser.next_event(), RequestHead)
    assert parser.next_event() == EndOfMessage()
    assert parser.buffered == len(b"GET /2 HTTP/1.1\r\nHost: a\r\n\r\n")
    with pytest.raises(RuntimeError):
        parser.next_event()
    parser.start_next_message()
    second = parser.next_event()
    assert isinstance(second, RequestHead)
    assert second.target == b"/2"


def test_one_empty_line_before_request_skipped() -> None:
    events = all_messages(new_parser(), b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\n\r\nx"
                          b"\r\nGET /next HTTP/1.1\r\nHost: a\r\n\r\n")
    targets = [event.target for event in events if isinstance(event, RequestHead)]
    assert targets == [b"/", b"/next"]


def test_two_empty_lines_before_request_rejected() -> None:
    assert request_error(b"\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n").status == 400


def test_start_next_message_allowed_once_body_read() -> None:
    parser = new_parser()
    parser.feed(b"GET / HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\n")
    assert isinstance(parser.next_event(), RequestHead)
    parser.start_next_message()  # no body: EndOfMessage need not be pulled
    second = parser.next_event()
    assert isinstance(second, RequestHead)
    assert second.target == b"/2"


def test_start_next_message_before_body_read_is_misuse() -> None:
    parser = new_parser()
    parser.feed(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhe")
    assert isinstance(parser.next_event(), RequestHead)
    with pytest.raises(RuntimeError):
        parser.start_next_message()


def test_clean_close_between_messages() -> None:
    parser = new_parser()
    parser.feed_eof()
    assert parser.next_event() is NEED_DATA
    assert not parser.in_head


@pytest.mark.parametrize(
    "data",
    [b"GET / HTTP/1.1\r\nHost: a\r\n",
     b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhel",
     b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel",
     b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n"],
    ids=["head", "length-body", "chunk-data", "trailers"],
)
def test_close_inside_a_message(data: bytes) -> None:
    parser = new_parser()
    parser.feed(data)
    parser.feed_eof()
    with pytest.raises(ProtocolError) as caught:
        while parser.next_event() is not NEED_DATA:
            pass
    assert caught.value.status == 400


def test_feed_after_eof_is_misuse() -> None:
    parser = new_parser()
    parser.feed_eof()
    with pytest.raises(RuntimeError):
        parser.feed(b"GET")


def test_in_head_and_buffered() -> None:
    parser = new_parser()
    assert not parser.in_head
    parser.feed(b"GET / HT")
    assert parser.next_event() is NEED_DATA
    assert parser.in_head
    assert parser.buffered == 8
    parser.feed(b"TP/1.1\r\nHost: a\r\n\r\n")
    assert isinstance(parser.next_event(), RequestHead)
    assert not parser.in_head
    assert parser.buffered == 0


def test_error_repeats_on_later_calls() -> None:
    parser = new_parser()
    parser.feed(b"GET / HTTP/1.1\nHost: a\r\n\r\n")
    with pytest.raises(ProtocolError) as first:
        parser.next_event()
    with pytest.raises(ProtocolError) as second:
        parser.next_event()
    assert first.value is second.value


def test_set_body_limit_rejects_declared_length() -> None:
    parser = new_parser()
    parser.feed(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\n")
    assert isinstance(parser.next_event(), RequestHead)
    with pytest.raises(ProtocolError) as caught:
        parser.set_body_limit(10)
    assert caught.value.status == 413
    with pytest.raises(ProtocolError):
        parser.next_event()


def test_set_body_limit_applies_to_chunks() -> None:
    parser = new_parser()
    parser.feed(b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n")
    assert isinstance(parser.next_event(), RequestHead)
    parser.set_body_limit(4)
    parser.feed(b"3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n")
    assert parser.next_event() == Data(b"abc")
    with pytest.raises(ProtocolError) as caught:
        parser.next_event()
    assert caught.value.status == 413


def test_set_body_limit_resets_for_next_message() -> None:
    parser = new_parser(max_body_bytes=100)
    parser.feed(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\n\r\nx")
    assert isinstance(parser.next_event(), RequestHead)
    parser.set_body_limit(1)
    assert parser.next_event() == Data(b"x")
    assert parser.next_event() == EndOfMessage()
    parser.start_next_message()
    parser.feed(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 50\r\n\r\n")
    head = parser.next_event()
    assert isinstance(head, RequestHead)
    assert head.content_length == 50


def test_set_body_limit_can_raise_the_cap() -> None:
    parser = new_parser(max_body_bytes=None)
    parser.feed(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 20\r\n\r\n")
    assert isinstance(parser.next_event(), RequestHead)
    parser.set_body_limit(None)
    parser.feed(b"x" * 20)
    assert parser.next_event() == Data(b"x" * 20)


def test_limits_at_their_exact_size_accepted() -> None:
    target = b"/" + b"a" * 99
    request = b"GET " + target + b" HTTP/1.1\r\nHost: a\r\n" + b"X: 1\r\n" * 9 + b"\r\n"
    limits = ParserLimits(max_target_bytes=100, max_header_bytes=len(request),
                          max_header_count=10)
    head = request_events(request, limits)[0]
    assert isinstance(head, RequestHead)
    assert head.target == target


def test_error_reason_names_the_problem() -> None:
    error = request_error(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +5\r\n\r\n")
    assert "Content-Length" in error.reason
    assert "+5" in error.reason


def test_error_reason_does_not_echo_field_values() -> None:
    error = request_error(b"GET / HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer s3cret\x01\r\n\r\n")
    assert "s3cret" not in error.reason


def test_between_messages_only_when_idle() -> None:
    parser = RequestParser(ParserLimits())
    assert parser.between_messages()
    parser.feed(b"GET / HTTP/1.1\r\n")
    assert not parser.between_messages()
    parser.feed(b"Host: a\r\n\r\n")
    assert not parser.between_messages()
    assert isinstance(parser.next_event(), RequestHead)
    assert isinstance(parser.next_event(), EndOfMessage)
    parser.start_next_message()
    assert parser.between_messages()
    parser.feed(b"\x00\r\n\r\n")
    with pytest.raises(ProtocolError):
        parser.next_event()
    assert not parser.between_messages()
