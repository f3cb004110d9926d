"""Content-Type boundary and Content-Disposition parsing for multipart bodies."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import unquote_to_bytes


@dataclass(slots=True)
class Disposition:
    """A parsed ``Content-Disposition: form-data; name=...; filename=...`` value."""

    name: bytes | None = None
    filename: bytes | None = None
    flags: set[str] = field(default_factory=set)
    error: str | None = None


def find_boundary(content_type: bytes) -> tuple[bytes | None, set[str]]:
    """Return the boundary of a multipart Content-Type and the flags its spelling raised."""
    flags: set[str] = set()
    boundaries: list[bytes] = []
    for parameter in content_type.split(b";")[1:]:
        name, equals, value = parameter.partition(b"=")
        if name.strip().lower() != b"boundary" or not equals:
            continue
        if name.rstrip() != name or value.lstrip() != value:
            flags.add("MULTIPART_BOUNDARY_WHITESPACE")
        value = value.strip()
        if value.startswith(b'"'):
            flags.add("MULTIPART_BOUNDARY_QUOTED")
            if not value.endswith(b'"') or len(value) < 2:
                return None, flags
            value = value[1:-1]
        if b" " in value or b"\t" in value:
            flags.add("MULTIPART_BOUNDARY_WHITESPACE")
        boundaries.append(value)
    if len(boundaries) != 1 or not boundaries[0]:
        return None, flags
    return boundaries[0], flags


def parse_disposition(value: bytes) -> Disposition:
    """Parse form-data parameters strictly; anything unusual raises a MULTIPART_* flag."""
    result = Disposition()
    kind, _, rest = value.partition(b";")
    if kind.strip().lower() != b"form-data":
        result.error = "Content-Disposition is not form-data"
        return result
    seen: set[bytes] = set()
    index = 0
    while index < len(rest):
        while index < len(rest) and rest[index] in b" \t":
            index += 1
        if index >= len(rest):
            break
        equals = rest.find(b"=", index)
        if equals < 0:
            result.error = "Content-Disposition parameter without a value"
            return result
        name = rest[index:equals].strip().lower()
        parsed, index = _read_parameter_value(rest, equals + 1, result)
        if parsed is None:
            return result
        if name in seen:
            result.error = f"duplicate Content-Disposition parameter {name.decode('latin-1')}"
            return result
        seen.add(name)
        _store(result, name, parsed)
        if result.error:
            return result
        while index < len(rest) and rest[index] in b" \t":
            index += 1
        if index < len(rest):
            if rest[index] != 0x3B:  # ;
                result.flags.add("MULTIPART_MISSING_SEMICOLON")
                result.error = "missing ';' between Content-Disposition parameters"
                return result
            index += 1
    if result.name is None:
        result.error = "Content-Disposition without a name"
    return result


def _read_parameter_value(text: bytes, index: int,
                          result: Disposition) -> tuple[bytes | None, int]:
    while index < len(text) and text[index] in b" \t":
        index += 1
    if index < len(text) and text[index] == 0x22:  # "
        out = bytearray()
        index += 1
        while index < len(text):
            byte = text[index]
            if byte == 0x5C and index + 1 < len(text) and text[index + 1] in b'"\\':
                # Only \" and \\ are escapes; other backslashes stay, so a
                # Windows-style filename such as a.j\s\p keeps them for the rules.
                result.flags.add("MULTIPART_INVALID_QUOTING")
                out.append(text[index + 1])
                index += 2
                continue
            if byte == 0x22:
                return bytes(out), index + 1
            out.append(byte)
            index += 1
        result.flags.add("MULTIPART_INVALID_QUOTING")
        result.error = "unterminated quoted Content-Disposition value"
        return None, index
    end = text.find(b";", index)
    end = len(text) if end < 0 else end
    value = text[index:end].strip()
    if b"'" in value or b'"' in value:
        result.flags.add("MULTIPART_INVALID_QUOTING")
    return value, end


def _store(result: Disposition, name: bytes, value: bytes) -> None:
    if name == b"name":
        result.name = value
    elif name == b"filename":
        if result.filename is not None and result.filename != value:
            result.flags.add("MULTIPART_INVALID_PART")
        result.filename = value
    elif name == b"filename*":
        decoded = _decode_extended(value)
        if decoded is None:
            result.error = "invalid filename* value"
            return
        if result.filename is not None and result.filename != decoded:
            result.flags.add("MULTIPART_INVALID_PART")
        result.filename = decoded
    else:
        result.error = f"unknown Content-Disposition parameter {name.decode('latin-1')!r}"


def _decode_extended(value: bytes) -> bytes | None:
    """Decode an RFC 5987 ``charset'language'percent-encoded`` value."""
    parts = value.split(b"'", 2)
    if len(parts) != 3:
        return None
    return unquote_to_bytes(parts[2])
