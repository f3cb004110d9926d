"""The part of a sans-IO HTTP/1.1 parser that requests and responses share.

Theory of operation: the caller feeds bytes as they arrive and pulls events.
One ``bytes`` buffer and a start offset hold what has not been returned yet.
A body piece that fills a whole feed is passed on without a copy, and a feed
copies only the unread tail it is appended to. A head is parsed only once
its terminating empty line is buffered, in one pass of C-level ``bytes``
methods (``find``, ``split``, ``count``, ``translate``). While it is
incomplete, each feed is scanned once for bare CR and bare LF, so a peer that
ends lines with LF alone gets its error at once instead of a timeout. Bodies
are streamed: every call returns whatever body bytes are buffered as a
``Data`` event, so a large body is never held whole.

Every ``ProtocolError`` is final: the parser keeps raising it, because after
a framing error the start of the next message is unknown. The caller must
close the connection.
"""

from __future__ import annotations

from typing import Final

from stockade.http.chunks import MAX_CHUNK_SIZE_DIGITS, parse_chunk_line
from stockade.http.errors import ProtocolError
from stockade.http.field_lines import parse_field_lines, split_section
from stockade.http.fields import Fields
from stockade.http.framing import check_trailer_names
from stockade.http.limits import ParserLimits
from stockade.http.messages import NEED_DATA, BodyFraming, Data, EndOfMessage, ParserEvent

MAX_LEADING_EMPTY_LINES: Final = 1
"""Empty lines skipped before a start line; RFC 9112 section 2.2 recommends skipping one."""

_CR: Final = 0x0D

# Parser states.
_HEAD: Final = 0  # reading a start line and header section
_LENGTH: Final = 1  # reading a Content-Length body (or none: zero bytes left)
_CHUNK_LINE: Final = 2  # reading a chunk-size line
_CHUNK_DATA: Final = 3  # reading chunk data
_CHUNK_END: Final = 4  # reading the CRLF after chunk data
_TRAILERS: Final = 5  # reading the trailer section after the last chunk
_UNTIL_CLOSE: Final = 6  # reading a body that ends when the peer closes
_DONE: Final = 7  # EndOfMessage returned; waiting for start_next_message()
_FAILED: Final = 8  # a ProtocolError was raised; it is raised again


class MessageParser:
    """Buffer handling, head delimiting and body framing shared by both parsers."""

    __slots__ = (
        "_body_bytes",
        "_body_limit",
        "_buffer",
        "_empty_lines",
        "_eof",
        "_error",
        "_limits",
        "_remaining",
        "_scanned",
        "_start",
        "_state",
    )

    def __init__(self, limits: ParserLimits) -> None:
        self._limits = limits
        self._buffer = b""
        self._start = 0  # offset in _buffer of the first byte not returned yet
        self._state = _HEAD
        self._eof = False
        self._error: ProtocolError | None = None
        self._remaining = 0  # bytes left of a Content-Length body or of the current chunk
        self._body_limit = limits.max_body_bytes
        self._body_bytes = 0  # body bytes counted against the limit so far
        self._scanned = 0  # offset in _buffer up to which an incomplete section was checked
        self._empty_lines = 0

    # Public interface -------------------------------------------------------

    def feed(self, data: bytes) -> None:
        """Append bytes received from the peer."""
        if self._eof:
            raise RuntimeError("feed() called after feed_eof()")
        start = self._start
        if start == len(self._buffer):
            self._buffer = data
            self._scanned = 0
        else:
            self._buffer = self._buffer[start:] + data
            self._scanned = max(0, self._scanned - start)
        self._start = 0

    def feed_eof(self) -> None:
        """Record that the peer closed its sending side; later calls see no more bytes."""
        self._eof = True

    def next_event(self) -> ParserEvent:
        """Return the next event, or NEED_DATA when more bytes are needed.

        Between messages, after ``feed_eof()`` with nothing buffered, the
        result is NEED_DATA too: the peer closed the connection cleanly.
        Raises ``ProtocolError`` on malformed input, and again on every later call.
        """
        if self._error is not None:
            raise self._error
        try:
            # The common states are dispatched here, one call less per event.
            state = self._state
            if state == _HEAD:
                return self._read_head()
            if state == _LENGTH:
                return self._read_length_body()
            return self._next_event()
        except ProtocolError as exc:
            error = self._peer_error(exc)
            self._error = error
            self._state = _FAILED
            raise error from None

    def start_next_message(self) -> None:
        """Prepare for the next message on a kept-alive connection.

        Allowed once the current message's body is fully read, before or after
        its EndOfMessage is pulled. Bytes of a pipelined next message stay buffered.
        """
        state = self._state
        body_done = state == _LENGTH and self._remaining == 0
        if state != _DONE and not body_done and not (state == _HEAD and not self.in_head):
            raise RuntimeError("start_next_message() called before the message was read whole")
        self._state = _HEAD
        self._remaining = 0
        self._body_limit = self._limits.max_body_bytes
        self._body_bytes = 0
        self._scanned = 0
        self._empty_lines = 0
        self._reset_message()

    def set_body_limit(self, max_bytes: int | None) -> None:
        """Replace the body cap of the current message (None: no cap).

        Raises ``ProtocolError`` (413) at once when the Content-Length already
        read, or the body counted so far, is over the new cap.
        """
        self._body_limit = max_bytes
        if max_bytes is None:
            return
        pending = self._remaining if self._state == _LENGTH else 0
        if self._body_bytes + pending > max_bytes:
            exc = self._peer_error(self._body_too_large(self._body_bytes + pending))
            self._error = exc
            self._state = _FAILED
            raise exc

    def between_messages(self) -> bool:
        """Return True when no message has begun and no byte is buffered.

        ``next_event`` then returns NEED_DATA, so a caller about to wait for
        bytes can skip the call.
        """
        return self._state == _HEAD and self._start == len(self._buffer) and self._error is None

    @property
    def buffered(self) -> int:
        """Bytes held but not yet returned as events."""
        return len(self._buffer) - self._start

    @property
    def in_head(self) -> bool:
        """True while a head has been partly received."""
        return self._state == _HEAD and (self.buffered > 0 or self._empty_lines > 0)

    # Hooks for the request and response parsers -----------------------------

    def _parse_head(self, head: bytes) -> ParserEvent:
        """Parse a complete head (without its final CRLF CRLF) and call ``_begin_body``."""
        raise NotImplementedError

    def _head_too_large(self, head: bytes) -> ProtocolError:
        """Return the error for a head (complete or not) past ``max_header_bytes``."""
        raise NotImplementedError

    def _check_partial_head(self, buffer: bytes, start: int) -> None:
        """Reject an incomplete head early when its start line is already too long."""

    def _peer_error(self, exc: ProtocolError) -> ProtocolError:
        """Return ``exc`` with the status the client gets for this direction."""
        return exc

    def _reset_message(self) -> None:
        """Forget per-message state of the subclass."""

    # Head -------------------------------------------------------------------

    def _next_event(self) -> ParserEvent:
        state = self._state
        if state == _HEAD:
            return self._read_head()
        if state == _LENGTH:
            return self._read_length_body()
        if _CHUNK_LINE <= state <= _TRAILERS:
            return self._read_chunked_body()
        if state == _UNTIL_CLOSE:
            return self._read_body_until_close()
        raise RuntimeError("next_event() called after EndOfMessage; call start_next_message()")

    def _read_head(self) -> ParserEvent:
        buffer = self._buffer
        while buffer.startswith(b"\r\n", self._start):
            self._empty_lines += 1
            if self._empty_lines > MAX_LEADING_EMPTY_LINES:
                raise ProtocolError("more than one empty line before the start line")
            self._consume(self._start + 2)
            buffer = self._buffer
        start = self._start
        # The common case, a whole head in the buffer, is found here;
        # _find_section_end checks the bytes of a head that is not complete.
        end = buffer.find(b"\r\n\r\n", max(start, self._scanned - 3))
        if end != -1:
            self._scanned = 0
        else:
            end = self._find_section_end()
        if end == -1:
            if len(buffer) - start > self._limits.max_header_bytes:
                raise self._head_too_large(buffer[start:])
            self._check_partial_head(buffer, start)
            if self._eof and len(buffer) > start:
                raise ProtocolError("connection closed inside a message head")
            return NEED_DATA
        if end + 4 - start > self._limits.max_header_bytes:
            raise self._head_too_large(buffer[start:end])
        head = buffer[start:end]
        if end + 4 == len(buffer):
            self._buffer = b""
            self._start = 0
        else:
            self._start = end + 4
        return self._parse_head(head)

    def _consume(self, end: int) -> None:
        """Mark the buffer up to offset ``end`` as returned."""
        if end == len(self._buffer):
            self._buffer = b""
            self._start = 0
        else:
            self._start = end

    def _find_section_end(self) -> int:
        """Return the offset of the CRLF CRLF that ends the buffered section, or -1.

        While the section is incomplete, checks the bytes fed since the last
        call for a CR not followed by LF and an LF not preceded by CR.
        """
        buffer = self._buffer
        start = max(self._start, self._scanned)
        end = buffer.find(b"\r\n\r\n", max(self._start, start - 3))
        if end != -1:
            self._scanned = 0
            return end
        if start > self._start and buffer[start - 1] == _CR:
            start -= 1  # a CR that ended the previous feed is checked again with its LF
        line_ends = buffer.count(b"\r\n", start)
        if buffer.count(b"\n", start) != line_ends:
            raise ProtocolError("line ends with a bare LF; HTTP/1.1 lines end with CRLF")
        carriage_returns = buffer.count(b"\r", start)
        if carriage_returns != line_ends and not (
            carriage_returns == line_ends + 1 and buffer[-1] == _CR
        ):
            raise ProtocolError("bare CR not followed by LF")
        self._scanned = len(buffer)
        return -1

    # Body -------------------------------------------------------------------

    def _begin_body(self, framing: BodyFraming, content_length: int | None) -> None:
        """Set the body state after a final head; NONE reads as a zero-length body."""
        if framing is BodyFraming.CHUNKED:
            self._state = _CHUNK_LINE
        elif framing is BodyFraming.CLOSE:
            self._state = _UNTIL_CLOSE
        else:
            length = content_length if framing is BodyFraming.LENGTH and content_length else 0
            if self._body_limit is not None and length > self._body_limit:
                raise self._body_too_large(length)
            self._state = _LENGTH
            self._remaining = length

    def _body_too_large(self, size: int) -> ProtocolError:
        return ProtocolError(
            f"body of {size} bytes exceeds the limit of {self._body_limit} bytes", 413
        )

    def _take(self, count: int) -> Data:
        """Return the next ``count`` buffered bytes as a Data event, copied only when needed."""
        return Data(self._take_bytes(count))

    def _take_bytes(self, count: int) -> bytes:
        buffer = self._buffer
        start = self._start
        end = start + count
        if start == 0 and end == len(buffer):
            self._buffer = b""
            return buffer
        self._consume(end)
        return buffer[start:end]

    def take_length_body(self) -> tuple[bytes, bool] | None:
        """Return the buffered bytes of a Content-Length body and whether the body ends there.

        One call replaces the Data and EndOfMessage events that
        ``next_event`` would return for the same bytes; the parser is then
        in the same state. Returns None unless a Content-Length body (or a
        body-less message) is being read and the peer has not closed, and
        the caller then uses ``next_event``.
        """
        if self._state != _LENGTH or self._error is not None or self._eof:
            return None
        remaining = self._remaining
        count = min(remaining, len(self._buffer) - self._start)
        data = self._take_bytes(count) if count else b""
        remaining -= count
        self._remaining = remaining
        if remaining == 0:
            self._state = _DONE
            return data, True
        return data, False

    def has_whole_length_body(self, max_bytes: int) -> bool:
        """Return True when the rest of a Content-Length body, at most ``max_bytes``, is
        buffered, so that ``take_length_body`` returns all of it."""
        return (
            self._state == _LENGTH
            and self._error is None
            and not self._eof
            and self._remaining <= max_bytes
            and len(self._buffer) - self._start >= self._remaining
        )

    def _read_length_body(self) -> ParserEvent:
        remaining = self._remaining
        if remaining == 0:
            self._state = _DONE
            return EndOfMessage()
        available = len(self._buffer) - self._start
        if not available:
            if self._eof:
                raise ProtocolError(f"connection closed with {remaining} body bytes missing")
            return NEED_DATA
        count = min(remaining, available)
        self._remaining = remaining - count
        return self._take(count)

    def _read_body_until_close(self) -> ParserEvent:
        available = len(self._buffer) - self._start
        if available:
            self._body_bytes += available
            if self._body_limit is not None and self._body_bytes > self._body_limit:
                raise self._body_too_large(self._body_bytes)
            return self._take(available)
        if self._eof:
            self._state = _DONE
            return EndOfMessage()
        return NEED_DATA

    def _read_chunked_body(self) -> ParserEvent:
        while True:
            state = self._state
            available = len(self._buffer) - self._start
            if state == _CHUNK_DATA:
                if not available:
                    return self._need_body_bytes()
                count = min(self._remaining, available)
                self._remaining -= count
                if self._remaining == 0:
                    self._state = _CHUNK_END
                return self._take(count)
            if state == _CHUNK_LINE:
                if not self._read_chunk_line():
                    return self._need_body_bytes()
            elif state == _CHUNK_END:
                if self._buffer.startswith(b"\r\n", self._start):
                    self._consume(self._start + 2)
                    self._state = _CHUNK_LINE
                elif available >= 2 or (available and self._buffer[self._start] != _CR):
                    # RFC 9112 section 7.1: chunk-data is followed by CRLF. Any
                    # other byte means the chunk size and the data disagree.
                    raise ProtocolError("chunk data is not followed by CRLF")
                else:
                    return self._need_body_bytes()
            else:
                return self._read_trailers()

    def _need_body_bytes(self) -> ParserEvent:
        if self._eof:
            raise ProtocolError("connection closed inside a chunked body")
        return NEED_DATA

    def _read_chunk_line(self) -> bool:
        """Consume one chunk-size line; return False when it is not complete yet."""
        buffer = self._buffer
        start = self._start
        line_feed = buffer.find(b"\n", start)
        if line_feed == -1:
            max_line = MAX_CHUNK_SIZE_DIGITS + self._limits.max_chunk_extension_bytes + 1
            if len(buffer) - start > max_line:
                raise ProtocolError(f"chunk line longer than {max_line} bytes")
            carriage_return = buffer.find(b"\r", start)
            if carriage_return != -1 and carriage_return != len(buffer) - 1:
                raise ProtocolError("bare CR in a chunk line")
            return False
        if line_feed == start or buffer[line_feed - 1] != _CR:
            raise ProtocolError("chunk line ends with a bare LF; chunk lines end with CRLF")
        line = buffer[start:line_feed - 1]
        self._consume(line_feed + 1)
        if b"\r" in line:
            raise ProtocolError("bare CR in a chunk line")
        size = parse_chunk_line(line, self._limits.max_chunk_extension_bytes)
        if size == 0:
            self._state = _TRAILERS
            return True
        self._body_bytes += size
        if self._body_limit is not None and self._body_bytes > self._body_limit:
            raise self._body_too_large(self._body_bytes)
        self._remaining = size
        self._state = _CHUNK_DATA
        return True

    def _read_trailers(self) -> ParserEvent:
        buffer = self._buffer
        start = self._start
        if buffer.startswith(b"\r\n", start):
            self._consume(start + 2)
            self._state = _DONE
            return EndOfMessage()
        if buffer.startswith(b"\n", start):
            raise ProtocolError("last chunk ends with a bare LF")
        end = self._find_section_end() if len(buffer) - start > 1 else -1
        section_bytes = len(buffer) - start if end == -1 else end + 4 - start
        if section_bytes > self._limits.max_header_bytes:
            raise ProtocolError(
                f"trailer section larger than {self._limits.max_header_bytes} bytes", 431
            )
        if end == -1:
            return self._need_body_bytes()
        section = buffer[start:end]
        self._consume(end + 4)
        lines = split_section(
            section, "trailer section", self._limits.max_header_count, start_line=False
        )
        items, names, _ = parse_field_lines(lines, "trailer")
        # RFC 9110 section 6.5.1: trailers are kept apart from the header
        # section, so a trailer never changes what routing or a stage saw.
        check_trailer_names(items)
        self._state = _DONE
        return EndOfMessage(trailers=Fields(items, lowered_names=names))

