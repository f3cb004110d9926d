"""Malformed and ambiguous request framing: each case and the status it gets.

Every variant is fed whole and one byte at a time, because some checks run
while a head is still incomplete and must give the same answer.
"""

from __future__ import annotations

import pytest

from stockade.http.errors import ProtocolError
from stockade.http.messages import BodyFraming, Data, EndOfMessage, RequestHead
from stockade.http.parser import ParserLimits, RequestParser
from tests.http.support import all_messages, body_of, request_error, request_events


@pytest.fixture(params=[False, True], ids=["whole", "bytewise"])
def bytewise(request: pytest.FixtureRequest) -> bool:
    return bool(request.param)


def post(*field_lines: bytes, body: bytes = b"", version: bytes = b"HTTP/1.1") -> bytes:
    """Return a POST request with a valid Host and the given extra field lines."""
    fields = b"".join(line + b"\r\n" for line in field_lines)
    return b"POST /upload " + version + b"\r\nHost: a.example\r\n" + fields + b"\r\n" + body


def chunked(body: bytes) -> bytes:
    return post(b"Transfer-Encoding: chunked", body=body)


def assert_rejected(data: bytes, status: int, bytewise: bool) -> None:
    error = request_error(data, bytewise=bytewise)
    assert error.status == status, error.reason


@pytest.mark.parametrize(
    "data",
    [
        post(b"Content-Length: 5", b"Transfer-Encoding: chunked", body=b"0\r\n\r\n"),
        post(b"Transfer-Encoding: chunked", b"Content-Length: 5", body=b"0\r\n\r\n"),
        post(b"Transfer-Encoding: gzip, chunked", b"Content-Length: 5", body=b"hello"),
        post(b"Content-Length: 0", b"Transfer-Encoding: chunked", body=b"0\r\n\r\n"),
    ],
    ids=["cl-then-te", "te-then-cl", "te-gzip-and-cl", "cl-zero-and-te"],
)
def test_case01_content_length_with_transfer_encoding(data: bytes, bytewise: bool) -> None:
    assert_rejected(data, 400, bytewise)


@pytest.mark.parametrize(
    "field_lines",
    [
        (b"Content-Length: 5", b"Content-Length: 7"),
        (b"Content-Length: 5", b"Content-Length: 5"),
        (b"Content-Length: 5, 7",),
        (b"Content-Length: 5, 5",),
        (b"Content-Length: 5", b"content-length: 5"),
    ],
    ids=["different", "identical", "list-different", "list-identical", "case-differs"],
)
def test_case02_duplicate_content_length(field_lines: tuple[bytes, ...], bytewise: bool) -> None:
    assert_rejected(post(*field_lines, body=b"hello"), 400, bytewise)


@pytest.mark.parametrize(
    "value",
    [b"+5", b"-0", b"0x10", b"1_0", b"5 5", b"", b"5.0", b"1e3", b"\xd9\xa1",
     b"1" * 19, b"99999999999999999999999999999999"],
    ids=["plus", "minus-zero", "hex", "underscore", "inner-space", "empty", "decimal",
         "exponent", "arabic-digit", "nineteen-digits", "huge"],
)
def test_case03_content_length_not_digits(value: bytes, bytewise: bool) -> None:
    assert_rejected(post(b"Content-Length: " + value, body=b"hello"), 400, bytewise)


@pytest.mark.parametrize(
    ("value", "status"),
    [
        (b"chunked, gzip", 400),
        (b"xchunked", 400),
        (b"chunked;x=y", 400),
        (b",chunked", 400),
        (b"chunked,", 400),
        (b"chunked\x00", 400),
        (b"\x0bchunked", 400),
        (b"\x0cchunked", 400),
        (b"", 400),
        (b"identity", 400),
        (b"chunked, chunked", 400),
        (b"chunked chunked", 400),
        (b"gzip, chunked", 501),
        (b"x-custom, chunked", 501),
    ],
    ids=["chunked-not-final", "xchunked", "parameter", "leading-comma", "trailing-comma",
         "nul", "vertical-tab", "form-feed", "empty", "identity", "chunked-twice",
         "space-separated", "gzip-then-chunked", "unknown-then-chunked"],
)
def test_case04_transfer_encoding_not_exactly_chunked(
    value: bytes, status: int, bytewise: bool
) -> None:
    assert_rejected(post(b"Transfer-Encoding: " + value, body=b"0\r\n\r\n"), status, bytewise)


def test_case04_duplicate_transfer_encoding_lines(bytewise: bool) -> None:
    data = post(b"Transfer-Encoding: chunked", b"Transfer-Encoding: chunked", body=b"0\r\n\r\n")
    assert_rejected(data, 400, bytewise)


@pytest.mark.parametrize("value", [b"chunked", b"CHUNKED", b"  Chunked\t"])
def test_case04_chunked_any_case_accepted(value: bytes) -> None:
    events = request_events(post(b"Transfer-Encoding: " + value, body=b"3\r\nabc\r\n0\r\n\r\n"))
    head = events[0]
    assert isinstance(head, RequestHead)
    assert head.framing is BodyFraming.CHUNKED
    assert body_of(events) == b"abc"


@pytest.mark.parametrize(
    "field_lines",
    [
        (b"Transfer-Encoding: chunked",),
        (b"Transfer-Encoding: gzip",),
        (b"Transfer-Encoding: chunked", b"Content-Length: 5"),
    ],
    ids=["chunked", "gzip", "with-content-length"],
)
def test_case05_transfer_encoding_in_http10(field_lines: tuple[bytes, ...], bytewise: bool) -> None:
    data = post(*field_lines, body=b"0\r\n\r\n", version=b"HTTP/1.0")
    assert_rejected(data, 400, bytewise)


@pytest.mark.parametrize(
    "line",
    [b"Transfer-Encoding : chunked", b"Content-Length\t: 5", b"Host : a.example",
     b"X-Anything  : 1"],
    ids=["space-te", "tab-cl", "space-host", "two-spaces"],
)
def test_case06_whitespace_before_colon(line: bytes, bytewise: bool) -> None:
    assert_rejected(post(line, body=b"hello"), 400, bytewise)


@pytest.mark.parametrize(
    "field_lines",
    [
        (b"X-Note: a", b"  b"),
        (b"X-Note: a", b"\tb"),
        (b"Transfer-Encoding:", b" chunked"),
        (b"Content-Length:", b"\t5"),
    ],
    ids=["space-fold", "tab-fold", "folded-te", "folded-cl"],
)
def test_case07_obs_fold(field_lines: tuple[bytes, ...], bytewise: bool) -> None:
    assert_rejected(post(*field_lines, body=b"hello"), 400, bytewise)


@pytest.mark.parametrize(
    "data",
    [
        post(b"X-Note: a\rb"),
        post(b"X-Note: a\r"),
        b"GET /\r HTTP/1.1\r\nHost: a.example\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: a.example\r\r\n\r\n",
        post(b"X-Note: a\x00b"),
        post(b"X-Note: \x00"),
        post(b"X-Note: a\x01b"),
        post(b"X-Note: a\x7fb"),
        b"GET / HTTP/1.1\r\nHost: a.example\r\n\r\r\n",
    ],
    ids=["cr-in-value", "cr-before-crlf", "cr-in-request-line", "cr-cr-lf", "nul-in-value",
         "nul-alone", "soh-in-value", "del-in-value", "cr-in-final-line"],
)
def test_case08_bare_cr_and_control_characters(data: bytes, bytewise: bool) -> None:
    assert_rejected(data, 400, bytewise)


@pytest.mark.parametrize(
    "data",
    [
        b"GET / HTTP/1.1\nHost: a.example\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: a.example\n\r\n",
        b"GET / HTTP/1.1\r\nHost: a.example\r\n\n",
        b"GET / HTTP/1.1\nHost: a.example\n\n",
        post(b"X-Note: a\nb"),
    ],
    ids=["request-line", "field-line", "final-line", "all-lines", "lf-in-value"],
)
def test_case09_bare_lf_line_ends(data: bytes, bytewise: bool) -> None:
    assert_rejected(data, 400, bytewise)


@pytest.mark.parametrize(
    "size",
    [b"0x1", b"+1", b"-1", b"1_0", b" 1", b"1 ", b"\t1", b"1\t", b"", b"g",
     b"1" * 17, b"0" * 17],
    ids=["hex-prefix", "plus", "minus", "underscore", "leading-space", "trailing-space",
         "leading-tab", "trailing-tab", "empty", "not-hex", "seventeen-digits",
         "seventeen-zeros"],
)
def test_case10_invalid_chunk_size(size: bytes, bytewise: bool) -> None:
    assert_rejected(chunked(size + b"\r\nx\r\n0\r\n\r\n"), 400, bytewise)


@pytest.mark.parametrize(
    "extension",
    [b";", b";;", b";=v", b";a=", b";a b", b";a=\"open", b";a=\"x\x00\"", b";a\rb",
     b";a\x00", b";a=b ", b";a=\"x\" y", b";a=b=c", b";a=\"\\\x01\"",
     b";a=" + b"b" * 4096],
    ids=["bare-semicolon", "double-semicolon", "no-name", "empty-value", "space-in-name",
         "unterminated-quote", "nul-in-quote", "bare-cr", "nul", "trailing-space",
         "junk-after-quote", "two-equals", "control-in-quoted-pair", "too-long"],
)
def test_case11_invalid_chunk_extension(extension: bytes, bytewise: bool) -> None:
    assert_rejected(chunked(b"1" + extension + b"\r\nx\r\n0\r\n\r\n"), 400, bytewise)


@pytest.mark.parametrize(
    "extension",
    [b";a", b";a=b", b";a=\"b;c\"", b"; a=b", b";a = b ;c", b";a=\"q\\\"x\"", b";a=b;c=d"],
    ids=["name", "token-value", "quoted-semicolon", "space-before-name", "spaces-around",
         "quoted-pair", "two-extensions"],
)
def test_case11_valid_chunk_extension_dropped(extension: bytes, bytewise: bool) -> None:
    events = request_events(chunked(b"3" + extension + b"\r\nabc\r\n0\r\n\r\n"),
                            bytewise=bytewise)
    assert body_of(events) == b"abc"
    assert isinstance(events[-1], EndOfMessage)


def test_case11_extension_length_cap_is_configurable() -> None:
    limits = ParserLimits(max_chunk_extension_bytes=8)
    data = chunked(b"1;abcdefgh\r\nx\r\n0\r\n\r\n")
    assert request_error(data, limits).status == 400
    accepted = request_events(chunked(b"1;abcdefg\r\nx\r\n0\r\n\r\n"), limits)
    assert body_of(accepted) == b"x"


@pytest.mark.parametrize(
    "body",
    [b"5\r\nabcdefg\r\n0\r\n\r\n", b"5\r\nabcde0\r\n\r\n", b"5\r\nabcde\n0\r\n\r\n",
     b"5\r\nabcde\rX0\r\n\r\n", b"5\r\nabc\r\n0\r\n\r\n", b"0\r\n\n"],
    ids=["longer-than-size", "no-crlf", "lf-only", "cr-then-junk", "shorter-than-size",
         "last-chunk-lf"],
)
def test_case12_chunk_data_and_size_disagree(body: bytes, bytewise: bool) -> None:
    assert_rejected(chunked(body), 400, bytewise)


@pytest.mark.parametrize(
    "trailer",
    [b"Content-Length: 5", b"Transfer-Encoding: chunked", b"Host: b.example",
     b"Authorization: Bearer x", b"Content-Type: text/plain", b"content-type: text/plain"],
    ids=["content-length", "transfer-encoding", "host", "authorization", "content-type",
         "lower-case"],
)
def test_case13_forbidden_trailer_fields(trailer: bytes, bytewise: bool) -> None:
    assert_rejected(chunked(b"3\r\nabc\r\n0\r\n" + trailer + b"\r\n\r\n"), 400, bytewise)


def test_case13_trailers_not_merged_into_head(bytewise: bool) -> None:
    events = request_events(chunked(b"3\r\nabc\r\n0\r\nX-Checksum: 42\r\n\r\n"),
                            bytewise=bytewise)
    head, end = events[0], events[-1]
    assert isinstance(head, RequestHead)
    assert isinstance(end, EndOfMessage)
    assert b"x-checksum" not in head.fields
    assert end.trailers.get(b"X-Checksum") == b"42"


@pytest.mark.parametrize(
    "data",
    [
        b"GET / HTTP/1.1\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: a.example\r\nHost: a.example\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: a.example\r\nHost: b.example\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: \r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: a b\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: a/b\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: user@a.example\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: a.example,b.example\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: a.example:\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: a.example:http\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: a.example:65536\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: [::1\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: [a.example]\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: a%2eexample\r\n\r\n",
        b"GET http://a.example/ HTTP/1.1\r\n\r\n",
        b"GET http://user@a.example/ HTTP/1.1\r\nHost: a.example\r\n\r\n",
        b"GET http:///x HTTP/1.1\r\nHost: a.example\r\n\r\n",
    ],
    ids=["missing", "duplicate-same", "duplicate-different", "empty", "space", "slash",
         "userinfo", "comma-list", "empty-port", "named-port", "port-too-large",
         "unclosed-ipv6", "name-in-brackets", "percent-encoded", "absolute-without-host",
         "absolute-userinfo", "absolute-empty-authority"],
)
def test_case14_missing_multiple_or_invalid_host(data: bytes, bytewise: bool) -> None:
    assert_rejected(data, 400, bytewise)


def test_case14_absolute_form_authority_wins_over_host() -> None:
    events = request_events(b"GET HTTP://B.Example:8080/x?y=1 HTTP/1.1\r\nHost: a.example\r\n\r\n")
    head = events[0]
    assert isinstance(head, RequestHead)
    assert head.authority == b"b.example:8080"
    assert head.target == b"/x?y=1"
    assert head.fields.get_all(b"host") == [b"b.example:8080"]


@pytest.mark.parametrize(
    ("data", "status"),
    [
        (b"GET  / HTTP/1.1\r\nHost: a.example\r\n\r\n", 400),
        (b"GET /  HTTP/1.1\r\nHost: a.example\r\n\r\n", 400),
        (b"GET\t/ HTTP/1.1\r\nHost: a.example\r\n\r\n", 400),
        (b"GET /\tHTTP/1.1\r\nHost: a.example\r\n\r\n", 400),
        (b"GET\x0b/ HTTP/1.1\r\nHost: a.example\r\n\r\n", 400),
        (b"GET\x0c/ HTTP/1.1\r\nHost: a.example\r\n\r\n", 400),
        (b" GET / HTTP/1.1\r\nHost: a.example\r\n\r\n", 400),
        (b"GET / HTTP/1.1 \r\nHost: a.example\r\n\r\n", 400),
        (b"GET / HTTP/1.32\r\nHost: a.example\r\n\r\n", 400),
        (b"GET / http/1.1\r\nHost: a.example\r\n\r\n", 400),
        (b"GET / HTTP/1.1.1\r\nHost: a.example\r\n\r\n", 400),
        (b"GET /\r\nHost: a.example\r\n\r\n", 400),
        (b"G(T / HTTP/1.1\r\nHost: a.example\r\n\r\n", 400),
        (b"G\xc3\x89T / HTTP/1.1\r\nHost: a.example\r\n\r\n", 400),
        (b"GET /a\nb HTTP/1.1\r\nHost: a.example\r\n\r\n", 400),
        (b"GET /a\x01b HTTP/1.1\r\nHost: a.example\r\n\r\n", 400),
        (b"GET /a#b HTTP/1.1\r\nHost: a.example\r\n\r\n", 400),
        (b"GET * HTTP/1.1\r\nHost: a.example\r\n\r\n", 400),
        (b"GET a.example:80 HTTP/1.1\r\nHost: a.example\r\n\r\n", 400),
        (b"GET a/b HTTP/1.1\r\nHost: a.example\r\n\r\n", 400),
        (b"GET ftp://a.example/ HTTP/1.1\r\nHost: a.example\r\n\r\n", 400),
        (b"GET / HTTP/1.2\r\nHost: a.example\r\n\r\n", 505),
        (b"GET / HTTP/2.0\r\nHost: a.example\r\n\r\n", 505),
        (b"CONNECT a.example:443 HTTP/1.1\r\nHost: a.example:443\r\n\r\n", 501),
    ],
    ids=["double-space-1", "double-space-2", "tab-1", "tab-2", "vertical-tab", "form-feed",
         "leading-space", "trailing-space", "version-1.32", "lower-case-version",
         "version-1.1.1", "no-version", "method-paren", "method-non-ascii", "lf-in-target",
         "control-in-target", "fragment", "asterisk-for-get", "authority-form-get",
         "relative-target", "ftp-scheme", "version-1.2", "version-2.0", "connect"],
)
def test_case15_request_line_oddities(data: bytes, status: int, bytewise: bool) -> None:
    assert_rejected(data, status, bytewise)


@pytest.mark.parametrize(
    "data",
    [
        b"POST / HTTP/1.1\r\n\tContent-Length: 1\r\nHost: a.example\r\n\r\nx",
        b"POST / HTTP/1.1\r\n Host: a.example\r\nHost: a.example\r\n\r\n",
    ],
    ids=["tab-content-length", "space-host"],
)
def test_case16_whitespace_prefixed_first_field_line(data: bytes, bytewise: bool) -> None:
    assert_rejected(data, 400, bytewise)


@pytest.mark.parametrize(
    "value",
    [b"Content-Length", b"transfer-encoding", b"HOST", b"Authorization",
     b"keep-alive, Content-Length", b"close,Transfer-Encoding"],
    ids=["content-length", "transfer-encoding", "host", "authorization", "in-list-1",
         "in-list-2"],
)
def test_case17_connection_names_protected_field(value: bytes, bytewise: bool) -> None:
    data = post(b"Content-Length: 5", b"Connection: " + value, body=b"hello")
    assert_rejected(data, 400, bytewise)


def test_case17_connection_option_not_token(bytewise: bool) -> None:
    assert_rejected(post(b"Connection: close, a/b"), 400, bytewise)


@pytest.mark.parametrize("method", [b"GET", b"HEAD", b"OPTIONS", b"DELETE"])
def test_case18_body_framed_whatever_the_method(method: bytes, bytewise: bool) -> None:
    data = (
        method + b" / HTTP/1.1\r\nHost: a.example\r\nContent-Length: 5\r\n\r\nhello"
        + b"GET /next HTTP/1.1\r\nHost: a.example\r\n\r\n"
    )
    events = all_messages(RequestParser(ParserLimits()), data, bytewise=bytewise)
    heads = [event for event in events if isinstance(event, RequestHead)]
    assert [head.target for head in heads] == [b"/", b"/next"]
    assert body_of(events) == b"hello"


def test_case18_content_length_zero_then_next_request() -> None:
    data = (b"GET / HTTP/1.1\r\nHost: a.example\r\nContent-Length: 0\r\n\r\n"
            b"GET /smuggled HTTP/1.1\r\nHost: a.example\r\n\r\n")
    parser = RequestParser(ParserLimits())
    parser.feed(data)
    first = parser.next_event()
    assert isinstance(first, RequestHead)
    assert first.content_length == 0
    assert isinstance(parser.next_event(), EndOfMessage)
    parser.start_next_message()
    second = parser.next_event()
    assert isinstance(second, RequestHead)
    assert second.target == b"/smuggled"


@pytest.mark.parametrize(
    ("version", "value", "expected"),
    [(b"HTTP/1.1", b"100-continue", True), (b"HTTP/1.1", b"100-Continue", True),
     (b"HTTP/1.0", b"100-continue", False), (b"HTTP/1.1", b"something-else", False)],
    ids=["http11", "case-insensitive", "http10-ignored", "other-expectation"],
)
def test_case19_expect_continue_reported(version: bytes, value: bytes, expected: bool) -> None:
    events = request_events(post(b"Content-Length: 5", b"Expect: " + value, version=version))
    head = events[0]
    assert isinstance(head, RequestHead)
    assert head.expect_continue is expected
    assert events[1:] == []  # the body is not awaited before the head is returned


@pytest.mark.parametrize(
    ("data", "limits", "status"),
    [
        (b"GET /" + b"a" * 100 + b" HTTP/1.1\r\nHost: a.example\r\n\r\n",
         ParserLimits(max_target_bytes=100), 414),
        (b"GET /" + b"a" * 300, ParserLimits(max_target_bytes=100, max_header_bytes=200), 414),
        (b"GET / HTTP/1.1\r\nHost: a.example\r\nX-Pad: " + b"a" * 300 + b"\r\n\r\n",
         ParserLimits(max_header_bytes=256), 431),
        (b"GET / HTTP/1.1\r\nHost: a.example\r\nX-Pad: " + b"a" * 300,
         ParserLimits(max_header_bytes=256), 431),
        (b"GET / HTTP/1.1\r\nHost: a.example\r\n" + b"X-A: 1\r\n" * 10 + b"\r\n",
         ParserLimits(max_header_count=10), 431),
        (post(b"Content-Length: 11", body=b"hello world"), ParserLimits(max_body_bytes=10), 413),
        (post(b"Transfer-Encoding: chunked", body=b"6\r\nhello \r\n5\r\nworld\r\n0\r\n\r\n"),
         ParserLimits(max_body_bytes=10), 413),
        (chunked(b"3\r\nabc\r\n0\r\nX-Pad: " + b"a" * 300 + b"\r\n\r\n"),
         ParserLimits(max_header_bytes=256), 431),
        (chunked(b"3\r\nabc\r\n0\r\n" + b"X-A: 1\r\n" * 11 + b"\r\n"),
         ParserLimits(max_header_count=10), 431),
    ],
    ids=["target", "target-incomplete", "head", "head-incomplete", "field-count",
         "content-length", "chunked-body", "trailer-bytes", "trailer-count"],
)
def test_case20_limits(data: bytes, limits: ParserLimits, status: int, bytewise: bool) -> None:
    error = request_error(data, limits, bytewise=bytewise)
    assert error.status == status, error.reason


def test_case20_chunked_body_streams_until_the_limit() -> None:
    parser = RequestParser(ParserLimits(max_body_bytes=10))
    parser.feed(chunked(b"6\r\nhello \r\n"))
    events = [parser.next_event(), parser.next_event()]
    assert isinstance(events[1], Data)
    assert events[1].data == b"hello "
    parser.feed(b"5\r\nworld\r\n")
    with pytest.raises(ProtocolError) as caught:
        parser.next_event()
    assert caught.value.status == 413


def test_case21_http2_prior_knowledge_rejected(bytewise: bool) -> None:
    # Stockade speaks HTTP/1.1 only, so there is no HTTP/2 to HTTP/1.1
    # downgrade; an HTTP/2 connection preface gets "version not supported".
    assert_rejected(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 505, bytewise)
