"""Parsed HTTP/1.1 message heads and the events a parser returns."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from stockade.http.fields import Fields


class BodyFraming(enum.Enum):
    """How the length of a message body is determined (RFC 9112 section 6)."""

    NONE = "none"
    LENGTH = "length"
    CHUNKED = "chunked"
    CLOSE = "close"  # responses only: the body ends when the upstream closes


@dataclass(slots=True, init=False)
class RequestHead:
    method: bytes
    target: bytes
    version: bytes  # b"1.1" or b"1.0"
    fields: Fields
    framing: BodyFraming
    content_length: int | None
    keep_alive: bool
    expect_continue: bool
    authority: bytes
    """Lower-cased host[:port] the request is for: from an absolute-form target, else from Host.

    Empty only for an HTTP/1.0 request that carried neither.
    """

    def __init__(
        self,
        method: bytes,
        target: bytes,
        version: bytes,
        fields: Fields,
        framing: BodyFraming,
        content_length: int | None = None,
        keep_alive: bool = True,
        expect_continue: bool = False,
        authority: bytes = b"",
    ) -> None:
        # Written out rather than made by @dataclass: mypyc compiles this
        # __init__, while the one @dataclass makes runs interpreted.
        self.method = method
        self.target = target
        self.version = version
        self.fields = fields
        self.framing = framing
        self.content_length = content_length
        self.keep_alive = keep_alive
        self.expect_continue = expect_continue
        self.authority = authority

    @property
    def host(self) -> bytes:
        """The authority without its port; IPv6 literals keep their brackets."""
        if self.authority[:1] == b"[":
            return self.authority[: self.authority.find(b"]") + 1]
        return self.authority.partition(b":")[0]

    @property
    def path(self) -> bytes:
        """The target without its query, for origin-form targets."""
        return self.target.partition(b"?")[0]

    @property
    def query(self) -> bytes:
        return self.target.partition(b"?")[2]


@dataclass(slots=True, init=False)
class ResponseHead:
    status: int
    reason: bytes
    version: bytes
    fields: Fields
    framing: BodyFraming
    content_length: int | None
    keep_alive: bool

    def __init__(
        self,
        status: int,
        reason: bytes,
        version: bytes,
        fields: Fields,
        framing: BodyFraming,
        content_length: int | None = None,
        keep_alive: bool = True,
    ) -> None:
        self.status = status
        self.reason = reason
        self.version = version
        self.fields = fields
        self.framing = framing
        self.content_length = content_length
        self.keep_alive = keep_alive


@dataclass(slots=True, init=False)
class Data:
    """A piece of a message body, already stripped of chunked framing."""

    data: bytes

    def __init__(self, data: bytes) -> None:
        self.data = data


@dataclass(slots=True)
class EndOfMessage:
    trailers: Fields = field(default_factory=Fields)


class NeedData(enum.Enum):
    """Returned by a parser when it needs more bytes before the next event."""

    NEED_DATA = "need-data"


NEED_DATA = NeedData.NEED_DATA

ParserEvent = RequestHead | ResponseHead | Data | EndOfMessage | NeedData
