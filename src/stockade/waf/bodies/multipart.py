"""Strict ``multipart/form-data`` parsing into ARGS_POST, FILES and the MULTIPART_* flags.

Every irregularity a permissive backend parser might read differently is
flagged (MULTIPART_STRICT_ERROR), and a body without its final boundary is
a body error, because a backend may still act on the truncated parts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from stockade.waf.bodies.arguments import add_arguments, set_body_error
from stockade.waf.bodies.multipart_headers import find_boundary, parse_disposition
from stockade.waf.request_vars import to_text

if TYPE_CHECKING:
    from stockade.waf.transaction import Transaction

STRICT_FLAGS = (
    "MULTIPART_BOUNDARY_QUOTED", "MULTIPART_BOUNDARY_WHITESPACE", "MULTIPART_DATA_BEFORE",
    "MULTIPART_DATA_AFTER", "MULTIPART_HEADER_FOLDING", "MULTIPART_LF_LINE",
    "MULTIPART_MISSING_SEMICOLON", "MULTIPART_INVALID_QUOTING", "MULTIPART_INVALID_PART",
    "MULTIPART_INVALID_HEADER_FOLDING", "MULTIPART_FILE_LIMIT_EXCEEDED",
)
ALL_FLAGS = (*STRICT_FLAGS, "MULTIPART_CRLF_LF_LINES", "MULTIPART_UNMATCHED_BOUNDARY")
MAX_PARTS = 1000
"""Parts per body; more is a body error rather than a parsing cost without end."""


@dataclass(slots=True)
class _Part:
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    lines: list[bytes] = field(default_factory=list)


@dataclass(slots=True)
class _State:
    flags: set[str] = field(default_factory=set)
    parts: list[_Part] = field(default_factory=list)
    error: str | None = None
    finished: bool = False
    crlf_lines: int = 0
    lf_lines: int = 0


def parse(transaction: Transaction, body: bytes, content_type: bytes) -> None:
    for flag in ALL_FLAGS:
        transaction.scalars[flag] = b"0"
    boundary, flags = find_boundary(content_type)
    state = _State(flags=flags)
    if boundary is None:
        state.error = "multipart Content-Type without a single valid boundary"
    else:
        _split(body, boundary, state)
    if state.error is None and not state.finished:
        state.error = "multipart body has no final boundary (truncated)"
    if state.lf_lines and state.crlf_lines:
        state.flags.add("MULTIPART_CRLF_LF_LINES")
    elif state.lf_lines:
        state.flags.add("MULTIPART_LF_LINE")
    if state.error is None:
        _store_parts(transaction, state)
    _publish_flags(transaction, state)


def _split(body: bytes, boundary: bytes, state: _State) -> None:
    delimiter = b"--" + boundary
    current: _Part | None = None
    in_headers = False
    seen_boundary = False
    for raw in body.split(b"\n"):
        line = raw[:-1] if raw.endswith(b"\r") else raw
        if state.finished:
            if line.strip():
                state.flags.add("MULTIPART_DATA_AFTER")
            continue
        if line.startswith(delimiter):
            tail = line[len(delimiter):]
            if tail in (b"", b"--") or not tail.strip(b" \t"):
                _count_line_ending(raw, state)
                seen_boundary = True
                if tail == b"--":
                    state.finished = True
                    current = None
                    continue
                if len(state.parts) >= MAX_PARTS:
                    state.error = f"more than {MAX_PARTS} multipart parts"
                    return
                current = _Part()
                state.parts.append(current)
                in_headers = True
                continue
            state.flags.add("MULTIPART_UNMATCHED_BOUNDARY")
        if not seen_boundary:
            if line.strip():
                state.flags.add("MULTIPART_DATA_BEFORE")
            continue
        if current is None:
            continue
        if in_headers:
            _count_line_ending(raw, state)
            in_headers = _header_line(line, current, state)
            if state.error:
                return
        else:
            current.lines.append(raw)


def _count_line_ending(raw: bytes, state: _State) -> None:
    if raw.endswith(b"\r"):
        state.crlf_lines += 1
    else:
        state.lf_lines += 1


def _header_line(line: bytes, part: _Part, state: _State) -> bool:
    """Add one header line to ``part``; return False at the blank line ending the headers."""
    if not line:
        return False
    if line[:1] in (b" ", b"\t"):
        if not part.headers:
            state.flags.add("MULTIPART_INVALID_HEADER_FOLDING")
            state.error = "multipart header continuation without a header"
            return True
        state.flags.add("MULTIPART_HEADER_FOLDING")
        name, value = part.headers[-1]
        part.headers[-1] = (name, value + b" " + line.strip())
        return True
    name, colon, value = line.partition(b":")
    if not colon or not name.strip():
        state.flags.add("MULTIPART_INVALID_PART")
        state.error = "invalid multipart part header line"
        return True
    part.headers.append((name.strip(), value.strip()))
    return True


def _store_parts(transaction: Transaction, state: _State) -> None:
    arguments: list[tuple[bytes, bytes]] = []
    files_size = 0
    collections = transaction.collections
    for part in state.parts:
        dispositions = [value for name, value in part.headers
                        if name.lower() == b"content-disposition"]
        if len(dispositions) != 1:
            state.error = "multipart part without exactly one Content-Disposition"
            return
        disposition = parse_disposition(dispositions[0])
        state.flags |= disposition.flags
        if disposition.error or disposition.name is None:
            state.flags.add("MULTIPART_INVALID_PART")
            state.error = disposition.error or "multipart part without a name"
            return
        content = _join(part.lines)
        name = to_text(disposition.name)
        for header_name, header_value in part.headers:
            collections["MULTIPART_PART_HEADERS"].add(name, header_name + b": " + header_value)
        if disposition.filename is not None:
            collections["FILES"].add(name, disposition.filename)
            collections["FILES_SIZES"].add(name, str(len(content)).encode())
            files_size += len(content)
        else:
            arguments.append((disposition.name, content))
    transaction.scalars["FILES_COMBINED_SIZE"] = str(files_size).encode()
    add_arguments(transaction, arguments)


def _join(lines: list[bytes]) -> bytes:
    """Join content lines; the line break before the next boundary belongs to it."""
    if not lines:
        return b""
    content = b"\n".join(lines)
    return content[:-1] if content.endswith(b"\r") else content


def _publish_flags(transaction: Transaction, state: _State) -> None:
    if state.error is not None:
        set_body_error(transaction, state.error)
    for flag in state.flags:
        transaction.scalars[flag] = b"1"
    strict = state.error is not None or any(flag in state.flags for flag in STRICT_FLAGS)
    transaction.scalars["MULTIPART_STRICT_ERROR"] = b"1" if strict else b"0"
