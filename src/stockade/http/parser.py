"""Strict sans-IO HTTP/1.1 parsers for requests (from clients) and responses (from upstreams).

Feed bytes, pull events, like h11: ``RequestHead`` or ``ResponseHead``, then
``Data`` pieces of the de-chunked body, then ``EndOfMessage`` with any
trailers. ``NEED_DATA`` means more bytes are needed. Malformed input raises
``ProtocolError`` carrying the status for the client: 400 for bad syntax or
framing, 501 for a transfer coding other than chunked, 505 for an HTTP
major version other than 1, 414/431/413 for the limits in
``ParserLimits``. Every error on the response side becomes 502.

Wherever RFC 9110 and RFC 9112 let a recipient choose between repairing and
rejecting a message, these parsers reject: a front-end proxy that repairs a
message can forward something its upstream frames differently (request
smuggling). The individual rules are documented where they are enforced.

The request parser does not respond to ``Expect: 100-continue`` and does not care
which methods carry bodies: it reports ``expect_continue`` and frames every
body by its fields, and the server decides.

HTTP/2 is not spoken, so the checks an HTTP/2 to HTTP/1.1 downgrade needs
(Content-Length against DATA frames, connection-specific fields, CR or LF
in HTTP/2 field values) have no place here until it is.
"""

from __future__ import annotations

import functools
from typing import Final

from stockade.http.charsets import LINE_TEXT_CHARS, OBS_TEXT, VISIBLE_CHARS, is_token
from stockade.http.errors import ProtocolError
from stockade.http.field_lines import (
    FieldItems,
    FramingValues,
    parse_field_lines,
    scan_head,
    scan_request_head,
    split_section,
)
from stockade.http.fields import Fields
from stockade.http.framing import (
    REQUEST_PROTECTED_FIELDS,
    RESPONSE_PROTECTED_FIELDS,
    check_chunked_only,
    connection_options,
    content_length_of,
    is_keep_alive,
)
from stockade.http.limits import ParserLimits
from stockade.http.message_parser import MessageParser
from stockade.http.messages import BodyFraming, ParserEvent, RequestHead, ResponseHead
from stockade.http.target import request_authority, split_target

__all__ = ["ParserLimits", "RequestParser", "ResponseParser"]

_TARGET_CHARS: Final = VISIBLE_CHARS + OBS_TEXT
_NO_OPTIONS: Final[frozenset[bytes]] = frozenset()
_VERSIONS: Final = {b"HTTP/1.1": b"1.1", b"HTTP/1.0": b"1.0"}
_COMMON_METHODS: Final = frozenset(
    {b"GET", b"HEAD", b"POST", b"PUT", b"PATCH", b"DELETE", b"OPTIONS"}
)
"""Methods known to be tokens, so the per-request token check is skipped for them."""
_NO_BODY_STATUSES: Final = (204, 304)
_MIN_STATUS: Final = 100
_MAX_STATUS: Final = 599
_SWITCHING_PROTOCOLS: Final = 101
_UPSTREAM_ERROR_STATUS: Final = 502


class RequestParser(MessageParser):
    """Parser for requests a client sends.

    CONNECT is rejected with 501 Not Implemented: the gateway is a reverse
    proxy and never opens tunnels, for any target, so the method is not
    supported at all (405 would claim it exists for some other resource).
    """

    __slots__ = ()

    def _parse_head(self, head: bytes) -> ParserEvent:
        limits = self._limits
        scanned = scan_request_head(head, limits.max_header_count, limits.max_target_bytes)
        if scanned is None:
            lines = split_section(head, "request head", limits.max_header_count, start_line=True)
            method, target, version = self._parse_request_line(lines[0])
            items, names, framing_values = parse_field_lines(lines[1:], "header")
        else:
            method, target, version, items, names, framing_values = scanned
        if target[:1] == b"/" and b"#" not in target:
            path, target_authority = target, None  # origin-form, checked as split_target does
        else:
            path, target_authority = split_target(method, target)
        authority = request_authority(version, framing_values.get(b"host"), target_authority)
        if target_authority is not None:
            _replace_host(items, authority)
        if b"content-length" in framing_values or b"transfer-encoding" in framing_values:
            framing, content_length = self._request_framing(version, framing_values)
        else:
            framing, content_length = BodyFraming.NONE, None
        connection = framing_values.get(b"connection")
        options = (
            connection_options(connection, REQUEST_PROTECTED_FIELDS) if connection else _NO_OPTIONS
        )
        expect = framing_values.get(b"expect")
        self._begin_body(framing, content_length)
        # RFC 9110 section 10.1.1: 100-continue in an HTTP/1.0 request is ignored.
        expect_continue = expect is not None and version == b"1.1" and _asks_continue(expect)
        # Positional arguments, in field order: this runs once per request.
        return RequestHead(
            method,
            path,
            version,
            Fields(items, lowered_names=names),
            framing,
            content_length,
            version == b"1.1" if options is _NO_OPTIONS else is_keep_alive(version, options),
            expect_continue,
            authority,
        )

    def _parse_request_line(self, line: bytes) -> tuple[bytes, bytes, bytes]:
        # RFC 9112 section 3: request-line = method SP request-target SP
        # HTTP-version, one SP each. Lenient splitting on other whitespace is
        # what lets two servers see different targets.
        parts = line.split(b" ")
        if len(parts) != 3 or not all(parts):
            if b"\t" in line:
                raise ProtocolError("TAB in the request line; parts are separated by one SP")
            raise ProtocolError(
                "request line must be method, target and HTTP version separated by single spaces"
            )
        method, target, version_text = parts
        version = _VERSIONS.get(version_text)
        if version is None:
            # 505 is about the major version (RFC 9110 section 15.6.6). Other
            # 1.x minors would be read as 1.1 by a lenient server (section 6.2),
            # but only 1.0 and 1.1 exist, so they are rejected as invalid.
            if _is_version_syntax(version_text) and version_text[5:6] != b"1":
                raise ProtocolError(f"HTTP version {version_text!r} is not supported", 505)
            raise ProtocolError(f"invalid HTTP version {version_text[:16]!r} in the request line")
        if method not in _COMMON_METHODS and not is_token(method):
            raise ProtocolError(f"request method {method[:32]!r} is not a token")
        if method == b"CONNECT":
            raise ProtocolError("CONNECT is not supported by this gateway", 501)
        if len(target) > self._limits.max_target_bytes:
            raise self._target_too_long(len(target))
        if target.translate(None, _TARGET_CHARS):
            raise ProtocolError("control character or whitespace in the request target")
        return method, target, version

    def _request_framing(
        self, version: bytes, values: FramingValues
    ) -> tuple[BodyFraming, int | None]:
        transfer_encoding = values.get(b"transfer-encoding")
        content_length = values.get(b"content-length")
        if transfer_encoding is not None:
            if content_length is not None:
                # RFC 9112 section 6.1 lets a server reject a message with both,
                # and section 6.3 calls it an error. Servers that pick different
                # fields are the classic CL.TE / TE.CL smuggling pair.
                raise ProtocolError("request has both Content-Length and Transfer-Encoding")
            if version == b"1.0":
                # RFC 9112 section 6.1: Transfer-Encoding in HTTP/1.0 means faulty framing.
                raise ProtocolError("Transfer-Encoding in an HTTP/1.0 request")
            check_chunked_only(transfer_encoding)
            return BodyFraming.CHUNKED, None
        if content_length is not None:
            return BodyFraming.LENGTH, content_length_of(content_length)
        return BodyFraming.NONE, None

    def _head_too_large(self, head: bytes) -> ProtocolError:
        request_line, line_end, _ = head.partition(b"\r\n")
        if _target_length(request_line) > self._limits.max_target_bytes:
            return self._target_too_long(_target_length(request_line))
        if not line_end and b" " not in request_line:
            return ProtocolError("request line without a space in the first "
                                 f"{self._limits.max_header_bytes} bytes")
        return ProtocolError(
            f"request head larger than {self._limits.max_header_bytes} bytes", 431
        )

    def _check_partial_head(self, buffer: bytes, start: int) -> None:
        max_target = self._limits.max_target_bytes
        if len(buffer) - start <= max_target:
            return
        line_end = buffer.find(b"\r\n", start)
        request_line = buffer[start:line_end] if line_end != -1 else buffer[start:]
        if _target_length(request_line) > max_target:
            raise self._target_too_long(_target_length(request_line))

    def _target_too_long(self, length: int) -> ProtocolError:
        return ProtocolError(
            f"request target of {length} bytes or more exceeds the limit of "
            f"{self._limits.max_target_bytes} bytes",
            414,
        )


class ResponseParser(MessageParser):
    """Parser for responses an upstream sends; call ``expect`` before each one.

    1xx interim responses come back as a ``ResponseHead`` with ``status < 200``
    and the parser then reads the next head of the same response. 204, 304 and
    responses to HEAD have no body whatever their fields state; a response with
    neither Content-Length nor Transfer-Encoding is read until the upstream
    closes (``BodyFraming.CLOSE``).
    """

    __slots__ = ("_request_method",)

    def __init__(self, limits: ParserLimits) -> None:
        super().__init__(limits)
        self._request_method: bytes | None = None

    def expect(self, request_method: bytes) -> None:
        """Record the method of the request that the next response belongs to."""
        self._request_method = request_method

    def _reset_message(self) -> None:
        self._request_method = None

    def _peer_error(self, exc: ProtocolError) -> ProtocolError:
        if exc.status == _UPSTREAM_ERROR_STATUS:
            return exc
        return ProtocolError(f"invalid upstream response: {exc.reason}", _UPSTREAM_ERROR_STATUS)

    def _head_too_large(self, head: bytes) -> ProtocolError:
        return ProtocolError(f"response head larger than {self._limits.max_header_bytes} bytes")

    def _read_head(self) -> ParserEvent:
        if self._request_method is None and (
            len(self._buffer) > self._start or self._empty_lines
        ):
            raise RuntimeError("call expect(request_method) before reading a response")
        return super()._read_head()

    def _parse_head(self, head: bytes) -> ParserEvent:
        scanned = scan_head(head, self._limits.max_header_count)
        if scanned is None:
            lines = split_section(
                head, "response head", self._limits.max_header_count, start_line=True
            )
            version, status, reason = _parse_status_line(lines[0])
            items, names, framing_values = parse_field_lines(lines[1:], "header")
        else:
            status_line, items, names, framing_values = scanned
            version, status, reason = _parse_status_line(status_line)
        connection = framing_values.get(b"connection")
        options = (
            connection_options(connection, RESPONSE_PROTECTED_FIELDS) if connection else _NO_OPTIONS
        )
        framing, content_length = self._response_framing(version, status, framing_values)
        keep_alive = framing is not BodyFraming.CLOSE and is_keep_alive(version, options)
        if status >= 200:
            self._begin_body(framing, content_length)
        return ResponseHead(
            status,
            reason,
            version,
            Fields(items, lowered_names=names),
            framing,
            content_length,
            keep_alive,
        )

    def _response_framing(
        self, version: bytes, status: int, values: FramingValues
    ) -> tuple[BodyFraming, int | None]:
        transfer_encoding = values.get(b"transfer-encoding")
        content_length_values = values.get(b"content-length")
        if transfer_encoding is not None:
            if content_length_values is not None:
                raise ProtocolError("response has both Content-Length and Transfer-Encoding")
            if version == b"1.0":
                raise ProtocolError("Transfer-Encoding in an HTTP/1.0 response")
            # NOTE: RFC 9112 section 6.3 reads a response whose final coding is
            # not chunked until close. Such codings cannot be forwarded as plain
            # content, so they are rejected here instead.
            check_chunked_only(transfer_encoding)
        content_length = (
            content_length_of(content_length_values) if content_length_values else None
        )
        if status == _SWITCHING_PROTOCOLS:
            raise ProtocolError("101 Switching Protocols: upgrades are not supported")
        # RFC 9112 section 6.3: 1xx, 204 and 304 responses and responses to
        # HEAD end with their head, whatever their framing fields state.
        if status < 200 or status in _NO_BODY_STATUSES or self._request_method == b"HEAD":
            return BodyFraming.NONE, content_length
        if transfer_encoding is not None:
            return BodyFraming.CHUNKED, None
        if content_length is not None:
            return BodyFraming.LENGTH, content_length
        return BodyFraming.CLOSE, None


STATUS_LINE_CACHE_SIZE = 256
"""Distinct valid status lines whose parsed parts are cached; an upstream sends few of them."""


@functools.lru_cache(maxsize=STATUS_LINE_CACHE_SIZE)
def _parse_status_line(line: bytes) -> tuple[bytes, int, bytes]:
    # RFC 9112 section 4: status-line = HTTP-version SP status-code SP [ reason-phrase ].
    # A missing SP after the code is accepted, because some servers omit it
    # with an empty reason and it cannot change the framing.
    version_text, _, rest = line.partition(b" ")
    version = _VERSIONS.get(version_text)
    if version is None:
        raise ProtocolError(f"invalid HTTP version {version_text[:16]!r} in the status line")
    status_text, _, reason = rest.partition(b" ")
    if len(status_text) != 3 or not status_text.isdigit():
        raise ProtocolError(f"invalid status code {status_text[:16]!r}")
    status = int(status_text)
    if not _MIN_STATUS <= status <= _MAX_STATUS:
        raise ProtocolError(f"status code {status} is outside 100-599")
    if reason.translate(None, LINE_TEXT_CHARS):
        raise ProtocolError("control character in the reason phrase")
    return version, status, reason


def _target_length(request_line: bytes) -> int:
    """Return the length of the target in a request line, complete or not."""
    _, space, rest = request_line.partition(b" ")
    return len(rest.partition(b" ")[0]) if space else 0


def _is_version_syntax(text: bytes) -> bool:
    """Return whether ``text`` matches HTTP-version = "HTTP/" DIGIT "." DIGIT."""
    return (
        len(text) == 8
        and text[:5] == b"HTTP/"
        and text[5:6].isdigit()
        and text[6:7] == b"."
        and text[7:8].isdigit()
    )


def _asks_continue(values: list[bytes]) -> bool:
    return any(value.lower() == b"100-continue" for value in values)


def _replace_host(items: FieldItems, authority: bytes) -> None:
    """Set Host to the authority of an absolute-form target, which wins (RFC 9112 section 3.2.2)."""
    for index, (name, _) in enumerate(items):
        if name.lower() == b"host":
            items[index] = (name, authority)
