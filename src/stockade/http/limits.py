"""Size limits a parser enforces on the messages it reads."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ParserLimits:
    """Caps on one message; past each one a request gets the status in its comment.

    The defaults are the request side's: RFC 9112 section 3 asks for at least
    8000 octets of request line, and common servers accept 8 to 16 KiB of head.
    """

    max_header_bytes: int = 16 * 1024
    """Bytes of start line plus header section (also of a trailer section); 431."""

    max_header_count: int = 100
    """Field lines in a header or trailer section; 431."""

    max_target_bytes: int = 8 * 1024
    """Bytes of the request target; 414."""

    max_chunk_extension_bytes: int = 4 * 1024
    """Bytes of chunk extensions on one chunk line; 400."""

    max_body_bytes: int | None = None
    """Bytes of body after de-chunking, or None for no cap; 413."""
