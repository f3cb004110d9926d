"""Helpers that drive the parsers with bytes, whole or one byte at a time."""

from __future__ import annotations

import random

from stockade.http.errors import ProtocolError
from stockade.http.messages import NEED_DATA, Data, EndOfMessage, ParserEvent
from stockade.http.parser import ParserLimits, RequestParser, ResponseParser

Parser = RequestParser | ResponseParser


def drain(parser: Parser) -> list[ParserEvent]:
    """Pull events until NEED_DATA or an EndOfMessage, which ends the list."""
    events: list[ParserEvent] = []
    while True:
        event = parser.next_event()
        if event is NEED_DATA:
            return events
        events.append(event)
        if isinstance(event, EndOfMessage):
            return events


def pieces(data: bytes, bytewise: bool) -> list[bytes]:
    """Return ``data`` as one piece, or as one piece per byte."""
    return [data[i:i + 1] for i in range(len(data))] if bytewise else [data]


def feed_all(parser: Parser, data: bytes, *, bytewise: bool = False) -> list[ParserEvent]:
    """Feed ``data`` (whole, or one byte per feed) and return every event of one message."""
    events: list[ParserEvent] = []
    for piece in pieces(data, bytewise):
        parser.feed(piece)
        if events and isinstance(events[-1], EndOfMessage):
            continue
        events.extend(drain(parser))
    return events


def request_events(
    data: bytes, limits: ParserLimits | None = None, *, bytewise: bool = False
) -> list[ParserEvent]:
    return feed_all(RequestParser(limits or ParserLimits()), data, bytewise=bytewise)


def request_error(
    data: bytes, limits: ParserLimits | None = None, *, bytewise: bool = False
) -> ProtocolError:
    """Return the ProtocolError ``data`` raises; fail when it parses without one.

    No end of file is fed: a malformed request must be rejected while the
    connection is still open, not when the client gives up.
    """
    parser = RequestParser(limits or ParserLimits())
    try:
        for piece in pieces(data, bytewise):
            parser.feed(piece)
            while True:
                event = parser.next_event()
                if event is NEED_DATA:
                    break
                if isinstance(event, EndOfMessage):
                    parser.start_next_message()
    except ProtocolError as exc:
        return exc
    raise AssertionError(f"no ProtocolError for {data[:200]!r}")


def all_messages(parser: Parser, data: bytes, *, bytewise: bool = False) -> list[ParserEvent]:
    """Feed ``data`` and return the events of every message in it, starting each next one."""
    events: list[ParserEvent] = []
    for piece in pieces(data, bytewise):
        parser.feed(piece)
        while (event := parser.next_event()) is not NEED_DATA:
            events.append(event)
            if isinstance(event, EndOfMessage):
                parser.start_next_message()
    return events


def body_of(events: list[ParserEvent]) -> bytes:
    return b"".join(event.data for event in events if isinstance(event, Data))


def mutate_bytes(data: bytes, rng: random.Random, alphabet: bytes) -> bytes:
    """Replace, insert or delete one to four bytes of ``data`` at random positions.

    New bytes come from ``alphabet`` four times out of five, else from all 256 values.
    """
    buffer = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        position = rng.randrange(len(buffer) + 1)
        choice = rng.random()
        byte = rng.choice(alphabet) if rng.random() < 0.8 else rng.randrange(256)
        if choice < 0.4 and position < len(buffer):
            buffer[position] = byte
        elif choice < 0.7:
            buffer.insert(position, byte)
        elif position < len(buffer):
            del buffer[position]
    return bytes(buffer)
