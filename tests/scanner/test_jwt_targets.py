"""The authentication check against a small token-checking API on loopback.

The API publishes an RSA key as a JWKS and serves GET /me to RS256
tokens. In its confused mode it also takes HS256 tokens whose HMAC key is
the PEM public key, the key confusion the scanner looks for.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from stockade.scanner.auth import AuthProfile
from stockade.scanner.jwt_tokens import b64url_decode
from stockade.scanner.planning import ScanSettings
from stockade.scanner.runner import ScanConfig, run_scan

PRIVATE_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
PUBLIC_PEM = PRIVATE_KEY.public_key().public_bytes(
    serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
OPENAPI = {
    "openapi": "3.0.3", "info": {"title": "tokens", "version": "1"},
    "security": [{"bearer": []}],
    "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
    "paths": {"/me": {"get": {"responses": {"200": {"description": "me", "content": {
        "application/json": {"schema": {"type": "object",
                                        "properties": {"sub": {"type": "string"}}}}}}}}}},
}


def _subject(token: str, confused: bool) -> str | None:
    try:
        header = jwt.get_unverified_header(token)
        if header.get("alg") == "RS256":
            claims = jwt.decode(token, PRIVATE_KEY.public_key(), algorithms=["RS256"])
            return str(claims["sub"])
        if confused and header.get("alg") == "HS256":
            signing_input, _, signature = token.rpartition(".")
            expected = hmac.new(PUBLIC_PEM, signing_input.encode(), hashlib.sha256).digest()
            if hmac.compare_digest(expected, b64url_decode(signature)):
                return str(jwt.decode(token, options={"verify_signature": False})["sub"])
    except (jwt.InvalidTokenError, KeyError, ValueError):
        return None
    return None


def _response(status: int, body: object) -> bytes:
    data = json.dumps(body).encode()
    return (f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(data)}\r\nConnection: close\r\n\r\n").encode() + data


Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


def _handler(confused: bool) -> Handler:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        request_line = (await reader.readline()).decode()
        token = ""
        while (line := await reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode().partition(":")
            if name.lower() == "authorization" and value.strip().startswith("Bearer "):
                token = value.strip()[len("Bearer "):]
        path = request_line.split()[1] if len(request_line.split()) > 1 else "/"
        if path == "/.well-known/jwks.json":
            jwk = json.loads(RSAAlgorithm.to_jwk(PRIVATE_KEY.public_key()))
            writer.write(_response(200, {"keys": [jwk]}))
        elif path == "/me":
            subject = _subject(token, confused) if token else None
            writer.write(_response(200, {"sub": subject}) if subject
                         else _response(401, {"error": "invalid token"}))
        else:
            writer.write(_response(404, {"error": "not found"}))
        await writer.drain()
        writer.close()
    return handle


@pytest.fixture(params=[True, False], ids=["confused", "strict"])
async def token_api(request: pytest.FixtureRequest) -> AsyncIterator[tuple[str, bool]]:
    server = await asyncio.start_server(_handler(request.param), "127.0.0.1", 0)
    yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}", request.param
    server.close()


async def test_key_confusion_found_only_when_present(token_api: tuple[str, bool],
                                                     tmp_path: Path) -> None:
    base_url, confused = token_api
    document = tmp_path / "openapi.json"
    document.write_text(json.dumps(OPENAPI))
    token = jwt.encode({"sub": "alice", "exp": 4_000_000_000}, PRIVATE_KEY, algorithm="RS256")
    profile = AuthProfile(name="alice", type="bearer", token=token)
    result = await run_scan(ScanConfig(
        base_url, str(document), [profile], ScanSettings(checks=frozenset({"authentication"})),
        canary=False))
    kinds = [finding.kind for finding in result.findings]
    assert kinds == (["jwt-key-confusion"] if confused else [])
