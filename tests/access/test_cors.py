from __future__ import annotations

import pytest
from pydantic import ValidationError

from stockade.auth.hashing import hash_api_key, new_api_key
from tests.auth.support import Gate, field, gateway_config

KEY = new_api_key()
CORS = {
    "allow_origins": ["https://app.acme.test"],
    "allow_credentials": True,
    "allow_methods": ["GET", "POST", "DELETE"],
    "allow_headers": ["Content-Type", "X-API-Key"],
    "expose_headers": ["RateLimit"],
    "max_age_seconds": 300,
}


def gate() -> Gate:
    policy = {"cors": CORS, "auth": {"api_key": {}}}
    consumers = [{"id": "web", "api_keys": [{"id": "w", "hash": hash_api_key(KEY)}]}]
    return Gate(gateway_config(policy, consumers=consumers))


def preflight(
    origin: str, method: str = "DELETE", headers: str = "content-type"
) -> list[tuple[str, str]]:
    return [
        ("Origin", origin),
        ("Access-Control-Request-Method", method),
        ("Access-Control-Request-Headers", headers),
    ]


async def test_preflight_answered_before_auth() -> None:
    verdict, _ = await gate().request(
        "/orders/1", method="OPTIONS", headers=preflight("https://app.acme.test")
    )
    assert verdict.reject
    assert verdict.status == 204
    assert field(verdict, "Access-Control-Allow-Origin") == ["https://app.acme.test"]
    assert field(verdict, "Access-Control-Allow-Credentials") == ["true"]
    assert field(verdict, "Access-Control-Allow-Methods") == ["GET, POST, DELETE"]
    assert field(verdict, "Access-Control-Allow-Headers") == ["Content-Type, X-API-Key"]
    assert field(verdict, "Access-Control-Max-Age") == ["300"]


async def test_preflight_from_other_origin_not_reflected() -> None:
    verdict, _ = await gate().request(method="OPTIONS", headers=preflight("https://evil.test"))
    assert verdict.status == 403
    assert field(verdict, "Access-Control-Allow-Origin") == []


async def test_preflight_method_and_header_checked() -> None:
    method, _ = await gate().request(
        method="OPTIONS", headers=preflight("https://app.acme.test", "PATCH")
    )
    assert method.reason == "cors-method-not-allowed"
    header, _ = await gate().request(
        method="OPTIONS", headers=preflight("https://app.acme.test", "GET", "x-secret")
    )
    assert header.reason == "cors-header-not-allowed"


async def test_actual_request_gets_cors_fields() -> None:
    verdict, exchange = await gate().request(
        headers=[("Origin", "https://app.acme.test"), ("X-API-Key", KEY)]
    )
    assert not verdict.reject
    extra = dict((name.decode(), value.decode()) for name, value in exchange.response_fields_extra)
    assert extra["Access-Control-Allow-Origin"] == "https://app.acme.test"
    assert extra["Access-Control-Allow-Credentials"] == "true"
    assert extra["Access-Control-Expose-Headers"] == "RateLimit"
    assert extra["Vary"] == "Origin"


async def test_other_origin_gets_no_grant() -> None:
    _, exchange = await gate().request(
        headers=[("Origin", "https://evil.test"), ("X-API-Key", KEY)]
    )
    names = [name.decode() for name, _ in exchange.response_fields_extra]
    assert "Access-Control-Allow-Origin" not in names


async def test_origin_match_is_exact() -> None:
    _, exchange = await gate().request(
        headers=[("Origin", "https://app.acme.test.evil.test"), ("X-API-Key", KEY)]
    )
    assert all(name != b"Access-Control-Allow-Origin" for name, _ in exchange.response_fields_extra)


def test_wildcard_with_credentials_refused() -> None:
    with pytest.raises(ValidationError, match="allow_credentials"):
        gateway_config({"cors": {"allow_origins": ["*"], "allow_credentials": True}})


def test_origin_with_path_refused() -> None:
    with pytest.raises(ValidationError, match="scheme://host"):
        gateway_config({"cors": {"allow_origins": ["https://app.acme.test/"]}})
