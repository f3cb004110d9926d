"""Targets that respond to everything alike must not produce findings about operations."""

from __future__ import annotations

import asyncio

from stockade.scanner.runner import ScanConfig, run_scan
from tests.scanner.demo import OPENAPI

APP_SHELL = b"<html><body>single-page app</body></html>"


async def _serve_app_shell(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    length = 0
    await reader.readline()
    while (line := await reader.readline()) not in (b"\r\n", b""):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    if length:
        await reader.readexactly(length)
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: "
                 + str(len(APP_SHELL)).encode() + b"\r\nConnection: close\r\n\r\n" + APP_SHELL)
    await writer.drain()
    writer.close()


async def test_catch_all_server_yields_only_header_finding() -> None:
    server = await asyncio.start_server(_serve_app_shell, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        result = await run_scan(ScanConfig(f"http://127.0.0.1:{port}", str(OPENAPI), []))
    finally:
        server.close()
    assert [finding.kind for finding in result.findings] == ["missing-security-headers"]
    assert any("needs two user profiles" in note for note in result.notes)
