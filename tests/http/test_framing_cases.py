"""Malformed and ambiguous request framing: each case and the status it gets.

Every variant is fed whole and one byte at a time, because some checks run
while a head is still incomplete and must return the same status. The variants
live in ``framing_cases`` so the e2e tests send the very same bytes.
"""

from __future__ import annotations

import pytest

from stockade.http.errors import ProtocolError
from stockade.http.messages import BodyFraming, Data, EndOfMessage, RequestHead
from stockade.http.parser import ParserLimits, RequestParser
from tests.http.framing_cases import CASE_LIMITS, Malformed, case_id, cases, chunked, post
from tests.http.support import all_messages, body_of, request_error, request_events


@pytest.fixture(params=[False, True], ids=["whole", "bytewise"])
def bytewise(request: pytest.FixtureRequest) -> bool:
    return bool(request.param)


def assert_rejected(case: Malformed, bytewise: bool) -> None:
    error = request_error(case.data, CASE_LIMITS, bytewise=bytewise)
    assert error.status == case.status, error.reason


@pytest.mark.parametrize("case", cases(1), ids=case_id)
def test_case01_content_length_with_transfer_encoding(case: Malformed, bytewise: bool) -> None:
    assert_rejected(case, bytewise)


@pytest.mark.parametrize("case", cases(2), ids=case_id)
def test_case02_duplicate_content_length(case: Malformed, bytewise: bool) -> None:
    assert_rejected(case, bytewise)


@pytest.mark.parametrize("case", cases(3), ids=case_id)
def test_case03_content_length_not_digits(case: Malformed, bytewise: bool) -> None:
    assert_rejected(case, bytewise)


@pytest.mark.parametrize("case", cases(4), ids=case_id)
def test_case04_transfer_encoding_not_exactly_chunked(case: Malformed, bytewise: bool) -> None:
    assert_rejected(case, bytewise)


@pytest.mark.parametrize("case", cases(5), ids=case_id)
def test_case05_transfer_encoding_in_http10(case: Malformed, bytewise: bool) -> None:
    assert_rejected(case, bytewise)


@pytest.mark.parametrize("case", cases(6), ids=case_id)
def test_case06_whitespace_before_colon(case: Malformed, bytewise: bool) -> None:
    assert_rejected(case, bytewise)


@pytest.mark.parametrize("case", cases(7), ids=case_id)
def test_case07_obs_fold(case: Malformed, bytewise: bool) -> None:
    assert_rejected(case, bytewise)


@pytest.mark.parametrize("case", cases(8), ids=case_id)
def test_case08_bare_cr_and_control_characters(case: Malformed, bytewise: bool) -> None:
    assert_rejected(case, bytewise)


@pytest.mark.parametrize("case", cases(9), ids=case_id)
def test_case09_bare_lf_line_ends(case: Malformed, bytewise: bool) -> None:
    assert_rejected(case, bytewise)


@pytest.mark.parametrize("case", cases(10), ids=case_id)
def test_case10_invalid_chunk_size(case: Malformed, bytewise: bool) -> None:
    assert_rejected(case, bytewise)


@pytest.mark.parametrize("case", cases(11), ids=case_id)
def test_case11_invalid_chunk_extension(case: Malformed, bytewise: bool) -> None:
    assert_rejected(case, bytewise)


@pytest.mark.parametrize("case", cases(12), ids=case_id)
def test_case12_chunk_data_and_size_disagree(case: Malformed, bytewise: bool) -> None:
    assert_rejected(case, bytewise)


@pytest.mark.parametrize("case", cases(13), ids=case_id)
def test_case13_forbidden_trailer_fields(case: Malformed, bytewise: bool) -> None:
    assert_rejected(case, bytewise)


@pytest.mark.parametrize("case", cases(14), ids=case_id)
def test_case14_missing_multiple_or_invalid_host(case: Malformed, bytewise: bool) -> None:
    assert_rejected(case, bytewise)


@pytest.mark.parametrize("case", cases(15), ids=case_id)
def test_case15_request_line_oddities(case: Malformed, bytewise: bool) -> None:
    assert_rejected(case, bytewise)


@pytest.mark.parametrize("case", cases(16), ids=case_id)
def test_case16_whitespace_prefixed_first_field_line(case: Malformed, bytewise: bool) -> None:
    assert_rejected(case, bytewise)


@pytest.mark.parametrize("case", cases(17), ids=case_id)
def test_case17_connection_names_protected_field(case: Malformed, bytewise: bool) -> None:
    assert_rejected(case, bytewise)


@pytest.mark.parametrize("case", cases(20), ids=case_id)
def test_case20_limits(case: Malformed, bytewise: bool) -> None:
    assert_rejected(case, bytewise)


@pytest.mark.parametrize("case", cases(21), ids=case_id)
def test_case21_http2_preface_rejected(case: Malformed, bytewise: bool) -> None:
    assert_rejected(case, bytewise)


@pytest.mark.parametrize("value", [b"chunked", b"CHUNKED", b"  Chunked\t"])
def test_case04_chunked_any_case_accepted(value: bytes) -> None:
    events = request_events(post(b"Transfer-Encoding: " + value, body=b"3\r\nabc\r\n0\r\n\r\n"))
    head = events[0]
    assert isinstance(head, RequestHead)
    assert head.framing is BodyFraming.CHUNKED
    assert body_of(events) == b"abc"


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


def test_case13_trailers_not_merged_into_head(bytewise: bool) -> None:
    events = request_events(chunked(b"3\r\nabc\r\n0\r\nX-Checksum: 42\r\n\r\n"),
                            bytewise=bytewise)
    head, end = events[0], events[-1]
    assert isinstance(head, RequestHead)
    assert isinstance(end, EndOfMessage)
    assert b"x-checksum" not in head.fields
    assert end.trailers.get(b"X-Checksum") == b"42"


def test_case14_absolute_form_authority_wins_over_host() -> None:
    events = request_events(b"GET HTTP://B.Example:8080/x?y=1 HTTP/1.1\r\nHost: a.example\r\n\r\n")
    head = events[0]
    assert isinstance(head, RequestHead)
    assert head.authority == b"b.example:8080"
    assert head.target == b"/x?y=1"
    assert head.fields.get_all(b"host") == [b"b.example:8080"]


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


@pytest.mark.parametrize(
    "data",
    [post(b"Content-Length: 5", body=b"hello"), chunked(b"5\r\nhello\r\n0\r\n\r\n"),
     b"GET / HTTP/1.1\r\nHost: a.example\r\n\r\n"],
    ids=["content-length", "chunked", "get"],
)
def test_baseline_requests_accepted_under_case_limits(data: bytes) -> None:
    # The malformed variants differ from these in one detail each, so these
    # passing shows the rejections come from that detail, not the limits.
    events = request_events(data, CASE_LIMITS)
    assert isinstance(events[0], RequestHead)
    assert isinstance(events[-1], EndOfMessage)
