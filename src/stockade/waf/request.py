"""The request and response as the engine receives them: bytes, in arrival order."""

from __future__ import annotations

from dataclasses import dataclass, field

Header = tuple[bytes, bytes]


@dataclass(slots=True)
class WafRequest:
    method: bytes
    target: bytes  # the request target exactly as sent
    protocol: bytes = b"HTTP/1.1"
    headers: list[Header] = field(default_factory=list)
    body: bytes = b""
    body_truncated: bool = False  # the gateway kept only the first part of a longer body
    client_address: str = "127.0.0.1"
    client_port: int = 0
    server_address: str = "127.0.0.1"
    server_port: int = 80
    unique_id: str = ""

    def header_values(self, name: bytes) -> list[bytes]:
        lowered = name.lower()
        return [value for key, value in self.headers if key.lower() == lowered]


@dataclass(slots=True)
class WafResponse:
    status: int
    headers: list[Header] = field(default_factory=list)
    body: bytes = b""
    protocol: bytes = b"HTTP/1.1"

    def header_values(self, name: bytes) -> list[bytes]:
        lowered = name.lower()
        return [value for key, value in self.headers if key.lower() == lowered]
