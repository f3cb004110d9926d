"""User enumeration against a small accounts API on loopback.

Its login returns the same response for every failure. Its registration returns "username
taken" in the leaky mode and "check your email" for every request in the
careful mode.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from stockade.scanner.auth import login_profile
from stockade.scanner.planning import ScanSettings
from stockade.scanner.runner import ScanConfig, run_scan

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]
CREDENTIAL_FIELDS = {"username": {"type": "string"}, "password": {"type": "string"}}
CREDENTIALS = {"type": "object", "properties": CREDENTIAL_FIELDS}
OPENAPI = {
    "openapi": "3.0.3", "info": {"title": "accounts", "version": "1"},
    "paths": {
        "/login": {"post": {"security": [], "requestBody": {"content": {
            "application/json": {"schema": CREDENTIALS}}}, "responses": {}}},
        "/register": {"post": {"security": [], "requestBody": {"content": {
            "application/json": {"schema": {"type": "object", "properties": {
                **CREDENTIAL_FIELDS, "email": {"type": "string", "format": "email"}}}}}},
            "responses": {}}},
    },
}


def _response(status: int, body: object) -> bytes:
    data = json.dumps(body).encode()
    return (f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(data)}\r\nConnection: close\r\n\r\n").encode() + data


def _accounts_api(leaky: bool) -> Handler:
    users = {"alice": "alice-pass"}
    ids = itertools.count(2)

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        _, path, _ = (await reader.readline()).decode().split(" ", 2)
        length = 0
        while (line := await reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode().partition(":")
            if name.lower() == "content-length":
                length = int(value)
        body = json.loads(await reader.readexactly(length)) if length else {}
        username = str(body.get("username"))
        if path == "/login":
            if users.get(username) == body.get("password"):
                writer.write(_response(200, {"token": f"token-for-{username}-0123456789"}))
            else:
                writer.write(_response(401, {"error": "invalid username or password"}))
        elif not leaky:
            writer.write(_response(202, {"status": "check your email"}))
        elif username in users:
            writer.write(_response(409, {"error": "username taken"}))
        else:
            users[username] = str(body.get("password"))
            writer.write(_response(201, {"id": next(ids), "username": username}))
        await writer.drain()
        writer.close()

    return handle


@pytest.fixture(params=[True, False], ids=["leaky", "careful"])
async def accounts_api(request: pytest.FixtureRequest) -> AsyncIterator[tuple[str, bool]]:
    server = await asyncio.start_server(_accounts_api(request.param), "127.0.0.1", 0)
    yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}", request.param
    server.close()


async def test_registration_enumeration(accounts_api: tuple[str, bool], tmp_path: Path) -> None:
    base_url, leaky = accounts_api
    document = tmp_path / "openapi.json"
    document.write_text(json.dumps(OPENAPI))
    profile = login_profile("alice:alice-pass", "user", "/login")
    result = await run_scan(ScanConfig(
        base_url, str(document), [profile],
        ScanSettings(checks=frozenset({"enumeration"})), canary=False))
    found = [(finding.kind, finding.path, finding.severity.name) for finding in result.findings]
    assert found == ([("user-enumeration", "/register", "LOW")] if leaky else [])


async def test_login_found_by_path_without_profiles(accounts_api: tuple[str, bool],
                                                    tmp_path: Path) -> None:
    """Without a login profile, the rate-limit probe finds POST /login by its name."""
    base_url, _ = accounts_api
    document = tmp_path / "openapi.json"
    document.write_text(json.dumps(OPENAPI))
    result = await run_scan(ScanConfig(
        base_url, str(document), [],
        ScanSettings(checks=frozenset({"enumeration", "ratelimit"}), login_probes=5),
        canary=False))
    assert [(finding.kind, finding.path) for finding in result.findings] == [
        ("no-login-rate-limit", "/login")]
    assert any(note.startswith("enumeration: skipped") for note in result.notes)
