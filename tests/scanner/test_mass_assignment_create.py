"""Mass assignment through a create operation, against a small API on loopback.

The API stores every member of a POST /notes body in its vulnerable mode
and only the declared ``text`` in its strict mode.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from stockade.scanner.auth import AuthProfile
from stockade.scanner.planning import ScanSettings
from stockade.scanner.runner import ScanConfig, run_scan

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]
NOTE = {"type": "object", "properties": {"id": {"type": "integer", "readOnly": True},
                                         "text": {"type": "string"}}}
OPENAPI = {
    "openapi": "3.1.0", "info": {"title": "notes", "version": "1"},
    "paths": {
        "/notes": {"post": {
            "requestBody": {"content": {"application/json": {"schema": {
                "type": "object", "properties": {"text": {"type": "string"}}}}}},
            "responses": {"201": {"description": "created", "content": {
                "application/json": {"schema": NOTE}}}}}},
        "/notes/{id}": {
            "parameters": [{"name": "id", "in": "path", "required": True,
                            "schema": {"type": "integer"}}],
            "get": {"responses": {"200": {"description": "a note", "content": {
                "application/json": {"schema": NOTE}}}}},
            "delete": {"responses": {"204": {"description": "deleted"}}}},
    },
}


def _response(status: int, body: object = None) -> bytes:
    data = json.dumps(body).encode() if body is not None else b""
    return (f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(data)}\r\nConnection: close\r\n\r\n").encode() + data


def _notes_api(vulnerable: bool, notes: dict[int, dict[str, Any]]) -> Handler:
    ids = itertools.count(1)

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        method, path, _ = (await reader.readline()).decode().split(" ", 2)
        length = 0
        while (line := await reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode().partition(":")
            if name.lower() == "content-length":
                length = int(value)
        body = json.loads(await reader.readexactly(length)) if length else None
        note_id = int(path.rsplit("/", 1)[1]) if path.rsplit("/", 1)[1].isdigit() else 0
        if method == "POST" and path == "/notes" and isinstance(body, dict):
            new_id = next(ids)
            kept = body if vulnerable else {"text": body.get("text", "")}
            notes[new_id] = {**kept, "id": new_id}
            writer.write(_response(201, notes[new_id]))
        elif method == "GET" and note_id in notes:
            writer.write(_response(200, notes[note_id]))
        elif method == "DELETE" and note_id in notes:
            del notes[note_id]
            writer.write(_response(204))
        else:
            writer.write(_response(404, {"error": "not found"}))
        await writer.drain()
        writer.close()

    return handle


@pytest.fixture(params=[True, False], ids=["vulnerable", "strict"])
async def notes_api(request: pytest.FixtureRequest
                    ) -> AsyncIterator[tuple[str, bool, dict[int, dict[str, Any]]]]:
    notes: dict[int, dict[str, Any]] = {}
    server = await asyncio.start_server(_notes_api(request.param, notes), "127.0.0.1", 0)
    yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}", request.param, notes
    server.close()


async def test_create_with_privileged_properties(
        notes_api: tuple[str, bool, dict[int, dict[str, Any]]], tmp_path: Path) -> None:
    base_url, vulnerable, notes = notes_api
    document = tmp_path / "openapi.json"
    document.write_text(json.dumps(OPENAPI))
    profile = AuthProfile(name="alice", type="bearer", token="opaque-token-1234")
    result = await run_scan(ScanConfig(
        base_url, str(document), [profile],
        ScanSettings(checks=frozenset({"mass-assignment"})), canary=False))
    assert [finding.kind for finding in result.findings] == (
        ["mass-assignment"] if vulnerable else [])
    assert notes == {}, "the scan left the note it created"
