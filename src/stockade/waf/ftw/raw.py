"""Parse a raw HTTP/1.x request as bytes, leniently, for ``encoded_request`` tests."""

from __future__ import annotations

from stockade.waf.request import WafRequest


def parse_raw_request(raw: bytes, client_address: str) -> WafRequest:
    """Split a raw request into line, fields and body; raise ValueError when impossible."""
    head, separator, body = raw.partition(b"\r\n\r\n")
    if not separator:
        head, separator, body = raw.partition(b"\n\n")
    lines = head.replace(b"\r\n", b"\n").split(b"\n")
    parts = lines[0].split(b" ")
    if len(parts) < 2:
        raise ValueError(f"request line {lines[0][:80]!r} has no target")
    method, target = parts[0], parts[1]
    protocol = parts[2] if len(parts) > 2 else b"HTTP/0.9"
    headers: list[tuple[bytes, bytes]] = []
    for line in lines[1:]:
        name, colon, value = line.partition(b":")
        if colon:
            headers.append((name.strip(), value.strip()))
    return WafRequest(method=method, target=target, protocol=protocol, headers=headers,
                      body=body, client_address=client_address)


def dechunk(body: bytes) -> bytes:
    """Decode chunked framing leniently; stop at the last chunk or the first bad size."""
    out = bytearray()
    rest = body
    while rest:
        size_line, newline, rest = rest.partition(b"\n")
        if not newline:
            break
        size_text = size_line.split(b";")[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError:
            break
        if size == 0:
            break
        out += rest[:size]
        rest = rest[size:].lstrip(b"\r").lstrip(b"\n")
    return bytes(out)
