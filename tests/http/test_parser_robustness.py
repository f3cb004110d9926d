"""Mutated messages: the parsers return events or raise ProtocolError, nothing else.

A seeded generator flips, inserts and deletes bytes of valid messages and
feeds the result in random pieces. Any other exception (IndexError,
ValueError from ``int()``, a loop that never ends) would reach the server as
a crash on client input.
"""

from __future__ import annotations

import random

import pytest

from stockade.http.errors import ProtocolError
from stockade.http.messages import NEED_DATA, EndOfMessage, ParserEvent
from stockade.http.parser import ParserLimits, RequestParser, ResponseParser
from tests.http.support import mutate_bytes

SEED = 20261204
MUTANTS_PER_MESSAGE = 2000
MAX_EVENTS = 10_000
"""Events per mutant before the test calls the parser stuck."""

INTERESTING_BYTES = b"\r\n\t \x00\x0b\x0c:;,=\"\\0123456789abcdefxX+-_/?#@[]*"

REQUESTS = [
    b"GET /a?b=c HTTP/1.1\r\nHost: a.example\r\nAccept: */*\r\n\r\n",
    b"POST /up HTTP/1.1\r\nHost: a.example\r\nContent-Length: 5\r\n"
    b"Expect: 100-continue\r\n\r\nhello",
    b"PUT /x HTTP/1.1\r\nHost: a.example\r\nTransfer-Encoding: chunked\r\n\r\n"
    b"5;ext=\"q\\\"v\"\r\nhello\r\n0\r\nX-Sum: 1\r\n\r\n",
    b"GET http://a.example:8080/p HTTP/1.1\r\nHost: b.example\r\nConnection: close\r\n\r\n",
    b"OPTIONS * HTTP/1.0\r\n\r\n",
]

RESPONSES = [
    b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi",
    b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    b"2\r\nhi\r\n0\r\n\r\n",
    b"HTTP/1.0 200 OK\r\n\r\nuntil close",
    b"HTTP/1.1 304 Not Modified\r\nContent-Length: 7\r\n\r\n",
]


def mutate(data: bytes, rng: random.Random) -> bytes:
    return mutate_bytes(data, rng, INTERESTING_BYTES)


def split_randomly(data: bytes, rng: random.Random) -> list[bytes]:
    pieces = []
    position = 0
    while position < len(data):
        size = rng.randint(1, 16)
        pieces.append(data[position:position + size])
        position += size
    return pieces


def run(parser: RequestParser | ResponseParser, pieces: list[bytes]) -> None:
    events: list[ParserEvent] = []
    try:
        for piece in pieces:
            parser.feed(piece)
            while (event := parser.next_event()) is not NEED_DATA:
                events.append(event)
                assert len(events) < MAX_EVENTS, "parser returns events without consuming bytes"
                if isinstance(event, EndOfMessage):
                    parser.start_next_message()
                    if isinstance(parser, ResponseParser):
                        parser.expect(b"GET")
        parser.feed_eof()
        while (event := parser.next_event()) is not NEED_DATA:
            events.append(event)
            assert len(events) < MAX_EVENTS
            if isinstance(event, EndOfMessage):
                break
    except ProtocolError as exc:
        assert 400 <= exc.status <= 599
        assert exc.reason


@pytest.mark.parametrize("index", range(len(REQUESTS)))
def test_mutated_requests_never_crash(index: int) -> None:
    rng = random.Random(SEED + index)
    limits = ParserLimits(max_header_bytes=1024, max_body_bytes=64)
    for _ in range(MUTANTS_PER_MESSAGE):
        data = mutate(REQUESTS[index], rng)
        run(RequestParser(limits), split_randomly(data, rng))
        run(RequestParser(limits), [data])


@pytest.mark.parametrize("index", range(len(RESPONSES)))
def test_mutated_responses_never_crash(index: int) -> None:
    rng = random.Random(SEED + 100 + index)
    for _ in range(MUTANTS_PER_MESSAGE):
        data = mutate(RESPONSES[index], rng)
        for pieces in (split_randomly(data, rng), [data]):
            parser = ResponseParser(ParserLimits(max_body_bytes=64))
            parser.expect(b"GET")
            run(parser, pieces)
