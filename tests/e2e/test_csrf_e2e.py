"""CSRF and CORS through a real gateway: what a browser's requests get back."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.client import RawResponse, request
from tests.support.gateway import GatewayProcess, service_config
from tests.support.upstream import TestUpstream

APP = "https://app.acme.test"
POLICY = {
    "cors": {
        "allow_origins": [APP],
        "allow_credentials": True,
        "allow_methods": ["GET", "POST"],
        "allow_headers": ["Content-Type", "X-CSRF-Token"],
    },
    "csrf": {"json_only": True, "token": {"mode": "double_submit"}},
}


def send(port: int, method: str, headers: list[str], body: bytes = b"") -> RawResponse:
    lines = [f"{method} /orders HTTP/1.1", "Host: api.test", *headers]
    if body:
        lines.append(f"Content-Length: {len(body)}")
    return request(port, ("\r\n".join(lines) + "\r\n\r\n").encode() + body)


@pytest.fixture(scope="module")
def upstream() -> Iterator[TestUpstream]:
    server = TestUpstream().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def gateway(
    upstream: TestUpstream, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[GatewayProcess]:
    """One gateway for the module: each start costs seconds, and no test changes its config."""
    folder = tmp_path_factory.mktemp("csrf-gateway")
    process = GatewayProcess(service_config([upstream.address], policy=POLICY), folder)
    process.start()
    yield process
    process.stop()


def token_from(response: RawResponse) -> str:
    set_cookie = response.headers["set-cookie"]
    assert set_cookie.startswith("__Host-csrf=")
    return set_cookie.split(";", 1)[0].split("=", 1)[1]


def test_preflighted_post_from_allowed_origin(
    gateway: GatewayProcess, upstream: TestUpstream
) -> None:
    preflight = send(
        gateway.port,
        "OPTIONS",
        [
            f"Origin: {APP}",
            "Access-Control-Request-Method: POST",
            "Access-Control-Request-Headers: content-type, x-csrf-token",
        ],
    )
    assert preflight.status == 204
    assert preflight.headers["access-control-allow-origin"] == APP
    assert preflight.headers["access-control-allow-credentials"] == "true"

    token = token_from(send(gateway.port, "GET", [f"Origin: {APP}"]))
    posted = send(
        gateway.port,
        "POST",
        [
            f"Origin: {APP}",
            "Sec-Fetch-Site: cross-site",
            f"Cookie: session=s1; __Host-csrf={token}",
            f"X-CSRF-Token: {token}",
            "Content-Type: application/json",
        ],
        b'{"item": 1}',
    )
    assert posted.status == 200
    assert posted.headers["access-control-allow-origin"] == APP
    assert upstream.requests[-1].method == "POST"
    assert upstream.requests[-1].body == b'{"item": 1}'


def test_cross_site_form_post_rejected(gateway: GatewayProcess, upstream: TestUpstream) -> None:
    seen = len(upstream.requests)
    response = send(
        gateway.port,
        "POST",
        [
            "Origin: https://evil.test",
            "Sec-Fetch-Site: cross-site",
            "Cookie: session=s1",
            "Content-Type: application/x-www-form-urlencoded",
        ],
        b"amount=100&to=mallory",
    )
    assert response.status == 403
    assert response.json()["message"] == "cross-site request rejected"
    assert len(upstream.requests) == seen


def test_same_origin_post_needs_token(gateway: GatewayProcess, upstream: TestUpstream) -> None:
    first = send(gateway.port, "GET", ["Sec-Fetch-Site: same-origin"])
    token = token_from(first)
    assert "SameSite=Strict" in first.headers["set-cookie"]
    headers = [
        "Sec-Fetch-Site: same-origin",
        f"Cookie: session=s1; __Host-csrf={token}",
        "Content-Type: application/json",
    ]
    missing = send(gateway.port, "POST", headers, b"{}")
    assert missing.status == 403
    assert "set-cookie" in missing.headers
    accepted = send(gateway.port, "POST", [*headers, f"X-CSRF-Token: {token}"], b"{}")
    assert accepted.status == 200


def test_text_plain_json_rejected(gateway: GatewayProcess) -> None:
    token = token_from(send(gateway.port, "GET", []))
    response = send(
        gateway.port,
        "POST",
        [
            "Sec-Fetch-Site: same-origin",
            f"Cookie: session=s1; __Host-csrf={token}",
            f"X-CSRF-Token: {token}",
            "Content-Type: text/plain",
        ],
        b'{"item": 1}',
    )
    assert response.status == 415


def test_bearer_client_not_subject(gateway: GatewayProcess) -> None:
    response = send(
        gateway.port,
        "POST",
        ["Authorization: Bearer abc.def.ghi", "Content-Type: application/json"],
        b"{}",
    )
    assert response.status == 200
