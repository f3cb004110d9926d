"""Authentication, access control and rate limiting in a real gateway process."""

from __future__ import annotations

import shutil
import socket
import ssl
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from stockade.auth.hashing import hash_api_key, new_api_key
from tests.auth.certs import Issued, issue, make_ca
from tests.auth.http_server import LocalAuthServer
from tests.auth.tokens import ISSUER, public_jwk, rsa_key, sign
from tests.ratelimit.redis_support import (
    SHARED_REDIS_URL,
    PrivateRedis,
    shared_redis_reachable,
    unique_prefix,
)
from tests.support.client import connect, read_response, request
from tests.support.gateway import GatewayProcess, free_port, service_config
from tests.support.upstream import TestUpstream

Factory = Callable[..., GatewayProcess]
KEY = new_api_key()
CONSUMERS = [
    {"id": "mobile", "groups": ["apps"], "api_keys": [{"id": "k1", "hash": hash_api_key(KEY)}]}
]
SIGNING_KEY = rsa_key()
SHARED_LIMIT = 200
REQUESTS_PER_GATEWAY = 300


def secured(upstream: TestUpstream, policy: dict[str, Any], **top: Any) -> dict[str, Any]:
    config = service_config([upstream.address], policy=policy)
    config["tenants"][0]["consumers"] = CONSUMERS
    config.update(top)
    return config


def get(path: str = "/echo", extra: str = "", host: str = "api.test", method: str = "GET") -> bytes:
    return f"{method} {path} HTTP/1.1\r\nHost: {host}\r\n{extra}\r\n".encode()


def test_api_key_required(gateway_factory: Factory, upstream: TestUpstream) -> None:
    gateway = gateway_factory(secured(upstream, {"auth": {"api_key": {}}}))
    missing = request(gateway.port, get())
    assert missing.status == 401
    assert missing.headers["www-authenticate"] == 'ApiKey realm="stockade"'
    assert missing.json()["error"] == "unauthorized"
    assert upstream.requests == []
    ok = request(gateway.port, get(extra=f"X-API-Key: {KEY}\r\n"))
    assert ok.status == 200
    assert upstream.requests[-1].header("x-api-key") is None
    assert upstream.requests[-1].header("x-consumer-id") == "mobile"


def test_rate_limit_fields_and_429(gateway_factory: Factory, upstream: TestUpstream) -> None:
    policy = {
        "auth": {"api_key": {}},
        "rate_limit": {
            "limits": [
                {"id": "app", "key": ["consumer"], "windows": [{"requests": 2, "per_seconds": 60}]}
            ]
        },
    }
    gateway = gateway_factory(secured(upstream, policy))
    with connect(gateway.port) as sock:
        statuses = []
        for _ in range(3):
            sock.sendall(get(extra=f"X-API-Key: {KEY}\r\n"))
            response = read_response(sock)
            statuses.append(response.status)
    assert statuses == [200, 200, 429]
    assert response.headers["retry-after"] == "30"
    assert response.headers["ratelimit-policy"] == '"app-0";q=2;w=60'
    first = request(gateway.port, get(extra="X-API-Key: " + KEY + "\r\n"))
    assert first.status == 429
    assert len(upstream.requests) == 2


def test_rate_limit_field_on_allowed_response(
    gateway_factory: Factory, upstream: TestUpstream
) -> None:
    policy = {
        "rate_limit": {
            "limits": [{"id": "ip", "key": ["ip"], "windows": [{"requests": 5, "per_seconds": 10}]}]
        }
    }
    gateway = gateway_factory(service_config([upstream.address], policy=policy))
    response = request(gateway.port, get())
    assert response.status == 200
    assert response.headers["ratelimit"] == '"ip-0";r=4;t=2'
    assert response.headers["ratelimit-policy"] == '"ip-0";q=5;w=10'


def _burst(port: int, count: int, statuses: list[int]) -> None:
    with connect(port) as sock:
        for _ in range(count):
            sock.sendall(get())
            statuses.append(read_response(sock).status)


def test_two_gateways_share_redis_limit(gateway_factory: Factory, upstream: TestUpstream) -> None:
    if not shared_redis_reachable():
        pytest.skip("Redis is not running on 127.0.0.1:6379; start it with scripts/services")
    policy = {
        "rate_limit": {
            "store": "redis",
            "redis_url": SHARED_REDIS_URL,
            "key_prefix": unique_prefix(),
            "limits": [
                {
                    "id": "tenant",
                    "key": ["tenant"],
                    "windows": [{"requests": SHARED_LIMIT, "per_seconds": 3600}],
                }
            ],
        }
    }
    gateways = [
        gateway_factory(service_config([upstream.address], policy=policy)) for _ in range(2)
    ]
    results: list[list[int]] = [[], [], [], []]
    threads = [
        threading.Thread(
            target=_burst,
            args=(gateways[index % 2].port, REQUESTS_PER_GATEWAY // 2, results[index]),
        )
        for index in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    statuses = [status for result in results for status in result]
    assert len(statuses) == 2 * REQUESTS_PER_GATEWAY
    admitted = statuses.count(200)
    assert set(statuses) == {200, 429}
    assert SHARED_LIMIT <= admitted <= SHARED_LIMIT * 1.01
    assert len(upstream.requests) == admitted


def test_jwt_from_jwks_server(gateway_factory: Factory, upstream: TestUpstream) -> None:
    server = LocalAuthServer().start()
    try:
        server.documents["/jwks"] = {"keys": [public_jwk(SIGNING_KEY, "k1")]}
        issuer = {
            "issuer": ISSUER,
            "algorithms": ["RS256"],
            "audiences": ["orders-api"],
            "jwks_url": server.url("/jwks"),
        }
        policy = {"auth": {"jwt": {"issuers": [issuer]}}, "access": {"scopes": ["orders:read"]}}
        gateway = gateway_factory(service_config([upstream.address], policy=policy))
        token = sign(SIGNING_KEY, "RS256", "k1")
        assert request(gateway.port, get(extra=f"Authorization: Bearer {token}\r\n")).status == 200
        expired = sign(SIGNING_KEY, "RS256", "k1", exp=int(time.time()) - 300)
        rejected = request(gateway.port, get(extra=f"Authorization: Bearer {expired}\r\n"))
        assert rejected.status == 401
        assert (
            rejected.headers["www-authenticate"] == 'Bearer realm="stockade", error="invalid_token"'
        )
        narrow = sign(SIGNING_KEY, "RS256", "k1", scope="profile")
        assert request(gateway.port, get(extra=f"Authorization: Bearer {narrow}\r\n")).status == 403
    finally:
        server.stop()


def test_forwarded_client_denied_behind_trusted_proxy(
    gateway_factory: Factory, upstream: TestUpstream
) -> None:
    config = service_config([upstream.address], policy={"access": {"ip_deny": ["203.0.113.0/24"]}})
    config["trusted_proxies"] = ["127.0.0.0/8"]
    gateway = gateway_factory(config)
    assert request(gateway.port, get(extra="X-Forwarded-For: 203.0.113.9\r\n")).status == 403
    assert request(gateway.port, get(extra="X-Forwarded-For: 198.51.100.4\r\n")).status == 200
    assert upstream.requests[-1].header("x-forwarded-for") == "198.51.100.4"


def test_cors_preflight_answered_by_gateway(
    gateway_factory: Factory, upstream: TestUpstream
) -> None:
    policy = {
        "auth": {"api_key": {}},
        "cors": {"allow_origins": ["https://app.acme.test"], "allow_methods": ["GET", "DELETE"]},
    }
    gateway = gateway_factory(secured(upstream, policy))
    extra = "Origin: https://app.acme.test\r\nAccess-Control-Request-Method: DELETE\r\n"
    response = request(gateway.port, get("/orders/1", extra=extra, method="OPTIONS"))
    assert response.status == 204
    assert response.headers["access-control-allow-origin"] == "https://app.acme.test"
    assert response.headers["access-control-allow-methods"] == "GET, DELETE"
    assert upstream.requests == []


def _mtls_get(port: int, server_ca: Issued, client: Issued | None, tmp_path: Path) -> int | None:
    context = ssl.create_default_context(
        cadata=server_ca.certificate.public_bytes(Encoding.PEM).decode()
    )
    if client is not None:
        context.load_cert_chain(*client.write(tmp_path, "client"))
    try:
        with (
            socket.create_connection(("127.0.0.1", port), timeout=10) as raw,
            context.wrap_socket(raw, server_hostname="api.test") as sock,
        ):
            sock.sendall(get())
            return read_response(sock).status
    except (ssl.SSLError, ConnectionError, OSError):
        return None


def test_mtls_listener(gateway_factory: Factory, upstream: TestUpstream, tmp_path: Path) -> None:
    server_ca, client_ca, other_ca = make_ca("server CA"), make_ca("client CA"), make_ca("other CA")
    cert, key = issue(server_ca, "api.test", client=False, sans=[x509.DNSName("api.test")]).write(
        tmp_path, "srv"
    )
    ca_path = tmp_path / "clients.pem"
    ca_path.write_bytes(client_ca.certificate.public_bytes(Encoding.PEM))
    port = free_port()
    config = service_config(
        [upstream.address], policy={"auth": {"mtls": {"ca_bundle": str(ca_path)}}}
    )
    config["tenants"][0]["consumers"] = [
        {"id": "billing", "certificate": {"subjects": ["O=Acme,CN=billing"]}}
    ]
    config["listeners"] = [
        {
            "name": "tls",
            "address": f"127.0.0.1:{port}",
            "tls": {"certificates": [{"hostnames": ["api.test"], "cert": cert, "key": key}]},
        }
    ]
    gateway = gateway_factory(config)
    gateway.port = port
    assert _mtls_get(port, server_ca, issue(client_ca, "billing"), tmp_path) == 200
    assert _mtls_get(port, server_ca, issue(client_ca, "billing", expired=True), tmp_path) is None
    assert _mtls_get(port, server_ca, issue(other_ca, "billing"), tmp_path) is None
    assert _mtls_get(port, server_ca, None, tmp_path) == 403
    assert _mtls_get(port, server_ca, issue(client_ca, "stranger"), tmp_path) == 403
    assert len(upstream.requests) == 1


@pytest.mark.parametrize(("mode", "status_after"), [("open", 200), ("closed", 503)])
def test_redis_stopped_mid_traffic(
    gateway_factory: Factory, upstream: TestUpstream, mode: str, status_after: int
) -> None:
    if shutil.which("redis-server") is None or shutil.which("redis-cli") is None:
        pytest.skip("redis-server and redis-cli are not installed (apt-get install redis-server)")
    redis_server = PrivateRedis().start()
    try:
        policy = {
            "rate_limit": {
                "store": "redis",
                "redis_url": redis_server.url,
                "on_store_error": mode,
                "redis_timeout_seconds": 0.5,
                "limits": [
                    {"id": "ip", "key": ["ip"], "windows": [{"requests": 100, "per_seconds": 60}]}
                ],
            }
        }
        gateway = gateway_factory(service_config([upstream.address], policy=policy))
        before = request(gateway.port, get())
        assert before.status == 200
        assert before.headers["ratelimit"] == '"ip-0";r=99;t=1'
        redis_server.shutdown()
        after = [request(gateway.port, get()) for _ in range(3)]
    finally:
        redis_server.stop()
    assert [response.status for response in after] == [status_after] * 3
    if mode == "closed":
        assert after[0].headers["retry-after"] == "1"
    assert "rate limit store unavailable" in gateway.logs()


def test_query_key_kept_out_of_upstream_and_log(
    gateway_factory: Factory, upstream: TestUpstream
) -> None:
    policy = {"auth": {"api_key": {"header": None, "query_parameter": "api_key"}}}
    gateway = gateway_factory(secured(upstream, policy))
    assert request(gateway.port, get(f"/echo?a=1&api_key={KEY}")).status == 200
    wrong = "sk_" + "x" * 43
    assert request(gateway.port, get(f"/echo?api_key={wrong}")).status == 401
    assert upstream.requests[-1].target == "/echo?a=1"
    access_log = gateway.config_path.parent / "access.log"
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and (
        not access_log.exists() or access_log.read_text().count("\n") < 2
    ):
        time.sleep(0.1)
    text = access_log.read_text()
    assert text.count("\n") == 2
    assert KEY not in text
    assert wrong not in text
