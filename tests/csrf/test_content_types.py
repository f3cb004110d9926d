"""Simple content types on JSON-only routes: fixed by policy or read from OpenAPI."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.csrf.support import Gate, config, kinds

SAME_ORIGIN = [("Sec-Fetch-Site", "same-origin"), ("Cookie", "session=1")]


def with_type(content_type: str | None) -> list[tuple[str, str]]:
    headers = list(SAME_ORIGIN)
    if content_type is not None:
        headers.append(("Content-Type", content_type))
    return headers


@pytest.mark.parametrize(
    "content_type",
    [
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "text/plain",
        "TEXT/PLAIN;charset=utf-8",
        None,
    ],
)
async def test_simple_type_rejected_on_json_only(content_type: str | None) -> None:
    gate = Gate(config({"json_only": True}))
    verdict, exchange = await gate.send(headers=with_type(content_type), body=b'{"a": 1}')
    assert verdict.status == 415
    assert verdict.reason == "csrf-simple-content-type"
    assert kinds(exchange) == ["csrf-simple-content-type"]


@pytest.mark.parametrize("content_type", ["application/json", "application/merge-patch+json"])
async def test_json_passes_on_json_only(content_type: str) -> None:
    gate = Gate(config({"json_only": True}))
    verdict, _ = await gate.send(headers=with_type(content_type), body=b"{}")
    assert not verdict.reject


async def test_request_without_body_not_judged() -> None:
    verdict, _ = await Gate(config({"json_only": True})).send(headers=with_type(None))
    assert not verdict.reject


async def test_allowed_simple_type_passes() -> None:
    gate = Gate(config({"json_only": True, "allow_content_types": ["text/plain"]}))
    text, _ = await gate.send(headers=with_type("text/plain"), body=b"{}")
    form, _ = await gate.send(headers=with_type("application/x-www-form-urlencoded"), body=b"a=1")
    assert not text.reject
    assert form.status == 415


async def test_json_only_off_allows_forms() -> None:
    gate = Gate(config({"json_only": False}))
    verdict, _ = await gate.send(headers=with_type("text/plain"), body=b"{}")
    assert not verdict.reject


async def test_requests_without_credentials_not_judged() -> None:
    gate = Gate(config({"json_only": True}))
    verdict, _ = await gate.send(headers=[("Content-Type", "text/plain")], body=b"{}")
    assert not verdict.reject


def openapi_file(tmp_path: Path) -> str:
    document = {
        "openapi": "3.0.3",
        "info": {"title": "t", "version": "1"},
        "paths": {
            "/orders": {
                "post": {
                    "requestBody": {
                        "content": {"application/json": {"schema": {"type": "object"}}}
                    },
                    "responses": {"200": {"description": "ok"}},
                }
            },
            "/upload": {
                "post": {
                    "requestBody": {"content": {"multipart/form-data": {}}},
                    "responses": {"200": {"description": "ok"}},
                }
            },
        },
    }
    path = tmp_path / "openapi.yaml"
    path.write_text(yaml.safe_dump(document))
    return str(path)


async def test_auto_reads_openapi_operation(tmp_path: Path) -> None:
    gate = Gate(config({}, openapi=openapi_file(tmp_path)))
    orders, _ = await gate.send(headers=with_type("text/plain"), body=b"{}")
    upload, _ = await gate.send(
        target="/upload", headers=with_type("multipart/form-data; boundary=x"), body=b"--x--"
    )
    assert orders.status == 415
    assert not upload.reject


async def test_auto_without_openapi_allows_forms() -> None:
    verdict, _ = await Gate(config({})).send(headers=with_type("text/plain"), body=b"{}")
    assert not verdict.reject
