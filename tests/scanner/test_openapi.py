"""Loading OpenAPI 3.0 and 3.1 documents for the scanner."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from stockade.scanner.client import ScanClient, Target
from stockade.scanner.openapi import OpenApiError, load_document, load_file, parse_document
from stockade.scanner.planning import ScanSettings
from stockade.scanner.runner import ScanConfig, run_scan
from tests.scanner.demo import OPENAPI

DOC_30 = {
    "openapi": "3.0.3",
    "info": {"title": "t", "version": "1"},
    "servers": [{"url": "https://api.example.com/base"}],
    "security": [{"key": []}],
    "paths": {
        "/things/{id}": {
            "parameters": [{"$ref": "#/components/parameters/Id"}],
            "get": {"operationId": "getThing", "responses": {
                "200": {"description": "ok", "content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/Thing"}}}}}},
            "put": {"security": [], "requestBody": {"content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/Thing"}}}},
                "responses": {"204": {"description": "ok"}}},
        },
        "/open": {"get": {"security": [{}, {"key": []}], "responses": {}}},
    },
    "components": {
        "parameters": {"Id": {"name": "id", "in": "path", "required": True,
                              "schema": {"type": "integer", "nullable": True}}},
        "schemas": {"Thing": {"type": "object", "properties": {
            "name": {"type": "string"}, "child": {"$ref": "#/components/schemas/Thing"}}}},
    },
}


def test_parse_30_resolves_refs_and_base_path() -> None:
    api = parse_document(json.dumps(DOC_30), "doc.json")
    get = api.find("GET", "/things/{id}")
    assert get is not None
    assert get.url_path == "/base/things/{id}"
    assert get.operation_id == "getThing"
    assert [p.name for p in get.path_params] == ["id"]
    assert get.requires_auth
    schema = get.response_schema(200)
    assert schema is not None and schema["properties"]["name"] == {"type": "string"}


def test_parse_operation_security_overrides() -> None:
    api = parse_document(json.dumps(DOC_30), "doc.json")
    put, open_get = api.find("PUT", "/things/{id}"), api.find("GET", "/open")
    assert put is not None and not put.requires_auth
    assert open_get is not None and not open_get.requires_auth  # {} makes auth optional
    assert put.body_schema is not None and "name" in put.body_schema["properties"]


def test_parse_31_demo_document() -> None:
    api = load_file(OPENAPI)
    assert api.version.startswith("3.1")
    delete = api.find("DELETE", "/api/v2/users/{userId}")
    assert delete is not None and delete.required_role == "admin"
    legacy = api.find("GET", "/api/v1/users/{userId}")
    assert legacy is not None and legacy.deprecated
    health = api.find("GET", "/health")
    assert health is not None and not health.requires_auth
    export = api.find("GET", "/api/v2/orders/export")
    assert export is not None and "text/csv" in export.response_types


@pytest.mark.parametrize(("document", "message"), [
    ("swagger: '2.0'\npaths: {}", "unsupported OpenAPI version"),
    ("openapi: 3.1.0\npaths: [1]", "'paths' is not a mapping"),
    ("- a list", "not a mapping"),
    ("openapi: 3.0.0\npaths:\n  /a:\n    get:\n      parameters:\n"
     "        - $ref: 'other.yaml#/P'\n", "unsupported \\$ref"),
    ("openapi: 3.0.0\npaths:\n  /a:\n    get:\n      parameters:\n"
     "        - $ref: '#/missing'\n", "points to nothing"),
    ("{unclosed", "not valid YAML"),
])
def test_parse_rejects(document: str, message: str) -> None:
    with pytest.raises(OpenApiError, match=message):
        parse_document(document, "doc.yaml")


def test_load_file_missing(tmp_path: Path) -> None:
    with pytest.raises(OpenApiError, match="cannot read"):
        load_file(tmp_path / "absent.yaml")


async def test_load_url_from_target() -> None:
    body = OPENAPI.read_bytes()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while (await reader.readline()) not in (b"\r\n", b""):
            pass
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: " + str(len(body)).encode()
                     + b"\r\nConnection: close\r\n\r\n" + body)
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    client = ScanClient(Target.parse(f"http://127.0.0.1:{port}"))
    try:
        api = await load_document(client, "/openapi.yaml")
        with pytest.raises(OpenApiError, match="may only reach"):
            await load_document(client, f"http://127.0.0.1:{port + 1}/openapi.yaml")
    finally:
        await client.close()
        server.close()
    assert api.find("POST", "/api/v2/login") is not None


async def test_target_path_replaces_server_path(tmp_path: Path) -> None:
    """Operations go under the target's base path, not the document's server path."""
    seen: list[str] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        seen.append((await reader.readline()).decode().split()[1])
        while (await reader.readline()) not in (b"\r\n", b""):
            pass
        writer.write(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        await writer.drain()
        writer.close()

    document = tmp_path / "openapi.json"
    document.write_text(json.dumps(DOC_30))
    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        await run_scan(ScanConfig(f"http://127.0.0.1:{port}/gateway/v1", str(document), [],
                                  ScanSettings(checks=frozenset({"exposure"})), canary=False))
    finally:
        server.close()
    assert "/gateway/v1/things/1" in seen
    assert not any(path.startswith("/base/") for path in seen)
