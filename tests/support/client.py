"""Raw-socket HTTP/1.1 client helpers for end-to-end tests."""

from __future__ import annotations

import json
import socket
import weakref
from dataclasses import dataclass
from typing import Any

_LEFTOVER: weakref.WeakKeyDictionary[socket.socket, bytes] = weakref.WeakKeyDictionary()
"""Bytes read past the end of a response: the start of the next pipelined one."""


@dataclass
class RawResponse:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def connect(port: int, timeout: float = 10.0) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=timeout)


def read_response(sock: socket.socket, head_request: bool = False) -> RawResponse:
    """Read one response (Content-Length, chunked, or until close) from ``sock``."""
    buffer = _LEFTOVER.pop(sock, b"")
    while b"\r\n\r\n" not in buffer:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"connection closed before a response head; got {buffer!r}")
        buffer += chunk
    head, _, rest = buffer.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if head_request or status in (204, 304) or 100 <= status < 200:
        _keep(sock, rest)
        return RawResponse(status, headers, b"")
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body = b""
        while True:
            while b"\r\n" not in rest:
                rest += _recv(sock)
            size_line, _, rest = rest.partition(b"\r\n")
            size = int(size_line.split(b";")[0], 16)
            while len(rest) < size + 2:
                rest += _recv(sock)
            if size == 0:
                _keep(sock, rest[2:])
                return RawResponse(status, headers, body)
            body += rest[:size]
            rest = rest[size + 2 :]
    if "content-length" in headers:
        length = int(headers["content-length"])
        while len(rest) < length:
            rest += _recv(sock)
        _keep(sock, rest[length:])
        return RawResponse(status, headers, rest[:length])
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            return RawResponse(status, headers, rest)
        rest += chunk


def _keep(sock: socket.socket, data: bytes) -> None:
    if data:
        _LEFTOVER[sock] = data


def _recv(sock: socket.socket) -> bytes:
    chunk = sock.recv(65536)
    if not chunk:
        raise ConnectionError("connection closed in the middle of a response body")
    return chunk


def request(port: int, raw: bytes) -> RawResponse:
    with connect(port) as sock:
        sock.sendall(raw)
        return read_response(sock)


def is_closed(sock: socket.socket, timeout: float = 5.0) -> bool:
    """Return True when the peer closes the connection within ``timeout``."""
    sock.settimeout(timeout)
    try:
        while True:
            data = sock.recv(65536)
            if not data:
                return True
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False
