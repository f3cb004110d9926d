"""The request and response as the engine receives them: bytes, in arrival order."""

from __future__ import annotations

from dataclasses import dataclass

Header = tuple[bytes, bytes]


@dataclass(slots=True, init=False)
class WafRequest:
    method: bytes
    target: bytes  # the request target exactly as sent
    protocol: bytes
    headers: list[Header]
    body: bytes
    body_truncated: bool  # the gateway kept only the first part of a longer body
    client_address: str
    client_port: int
    server_address: str
    server_port: int
    unique_id: str

    def __init__(
        self,
        method: bytes,
        target: bytes,
        protocol: bytes = b"HTTP/1.1",
        headers: list[Header] | None = None,
        body: bytes = b"",
        body_truncated: bool = False,
        client_address: str = "127.0.0.1",
        client_port: int = 0,
        server_address: str = "127.0.0.1",
        server_port: int = 80,
        unique_id: str = "",
    ) -> None:
        # Written out rather than made by @dataclass: mypyc compiles this
        # __init__, while the one @dataclass makes runs interpreted.
        self.method = method
        self.target = target
        self.protocol = protocol
        self.headers = [] if headers is None else headers
        self.body = body
        self.body_truncated = body_truncated
        self.client_address = client_address
        self.client_port = client_port
        self.server_address = server_address
        self.server_port = server_port
        self.unique_id = unique_id

    def header_values(self, name: bytes) -> list[bytes]:
        lowered = name.lower()
        return [value for key, value in self.headers if key.lower() == lowered]


@dataclass(slots=True, init=False)
class WafResponse:
    status: int
    headers: list[Header]
    body: bytes
    protocol: bytes

    def __init__(self, status: int, headers: list[Header] | None = None, body: bytes = b"",
                 protocol: bytes = b"HTTP/1.1") -> None:
        self.status = status
        self.headers = [] if headers is None else headers
        self.body = body
        self.protocol = protocol

    def header_values(self, name: bytes) -> list[bytes]:
        lowered = name.lower()
        return [value for key, value in self.headers if key.lower() == lowered]
