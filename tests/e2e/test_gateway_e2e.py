"""The gateway as a user runs it: a real process, real sockets, loopback upstreams."""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import socket
import ssl
import threading
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.support.client import connect, is_closed, read_response, request
from tests.support.gateway import GatewayProcess, free_port, service_config
from tests.support.upstream import TestUpstream

Factory = Callable[..., GatewayProcess]


def get(port: int, path: str, host: str = "api.test", extra: str = "") -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: {host}\r\n{extra}\r\n".encode()


def test_request_reaches_upstream_and_back(
    gateway_factory: Factory, upstream: TestUpstream
) -> None:
    gateway = gateway_factory(service_config([upstream.address]))
    response = request(
        gateway.port, get(gateway.port, "/echo?x=1", extra="X-Request-Id: abc-1\r\n")
    )
    assert response.status == 200
    assert response.headers["x-request-id"] == "abc-1"
    seen = upstream.requests[-1]
    assert seen.target == "/echo?x=1"
    assert seen.header("x-request-id") == "abc-1"
    assert seen.header("x-forwarded-for") == "127.0.0.1"
    assert seen.header("x-forwarded-proto") == "http"
    assert seen.header("x-forwarded-host") == "api.test"
    assert seen.header("forwarded") == "for=127.0.0.1;proto=http;host=api.test"


def test_unknown_host_gets_json_404(gateway_factory: Factory, upstream: TestUpstream) -> None:
    gateway = gateway_factory(service_config([upstream.address]))
    response = request(gateway.port, get(gateway.port, "/", host="other.test"))
    assert response.status == 404
    assert response.json()["error"] == "not_found"
    assert response.json()["request_id"] == response.headers["x-request-id"]
    assert upstream.requests == []


def test_hop_by_hop_fields_not_forwarded(gateway_factory: Factory, upstream: TestUpstream) -> None:
    gateway = gateway_factory(service_config([upstream.address]))
    extra = (
        "Connection: keep-alive, X-Hop\r\nX-Hop: secret\r\n"
        "Keep-Alive: timeout=5\r\nTE: trailers\r\n"
    )
    assert request(gateway.port, get(gateway.port, "/echo", extra=extra)).status == 200
    seen = upstream.requests[-1]
    for name in ("connection", "x-hop", "keep-alive", "te"):
        assert seen.header(name) is None, name


def test_keep_alive_reused_on_both_sides(gateway_factory: Factory, upstream: TestUpstream) -> None:
    gateway = gateway_factory(service_config([upstream.address]))
    with connect(gateway.port) as sock:
        for index in range(5):
            sock.sendall(get(gateway.port, f"/echo?n={index}"))
            response = read_response(sock)
            assert response.status == 200
            assert response.json()["target"] == f"/echo?n={index}"
    assert len(upstream.requests) == 5
    assert upstream.connections == 1


def test_pipelined_requests_answered_in_order(
    gateway_factory: Factory, upstream: TestUpstream
) -> None:
    gateway = gateway_factory(service_config([upstream.address]))
    with connect(gateway.port) as sock:
        sock.sendall(get(gateway.port, "/echo?n=1") + get(gateway.port, "/echo?n=2"))
        assert read_response(sock).json()["target"] == "/echo?n=1"
        assert read_response(sock).json()["target"] == "/echo?n=2"


def test_streamed_chunked_body_larger_than_buffer_cap(
    gateway_factory: Factory, upstream: TestUpstream
) -> None:
    config = service_config(
        [upstream.address], policy={"request_body": {"buffer_max_bytes": 65536}}
    )
    gateway = gateway_factory(config)
    payload = os.urandom(4 * 1024 * 1024)
    with connect(gateway.port) as sock:
        sock.sendall(b"POST /echo HTTP/1.1\r\nHost: api.test\r\nTransfer-Encoding: chunked\r\n\r\n")
        for offset in range(0, len(payload), 100_000):
            part = payload[offset : offset + 100_000]
            sock.sendall(f"{len(part):x}\r\n".encode() + part + b"\r\n")
        sock.sendall(b"0\r\n\r\n")
        response = read_response(sock)
    assert response.status == 200
    assert response.json()["body_length"] == len(payload)
    assert response.json()["body_sha256"] == hashlib.sha256(payload).hexdigest()


def test_large_response_streams_to_client(gateway_factory: Factory, upstream: TestUpstream) -> None:
    gateway = gateway_factory(service_config([upstream.address]))
    response = request(gateway.port, get(gateway.port, "/big?bytes=3000000"))
    assert response.status == 200
    assert len(response.body) == 3_000_000


def test_body_over_limit_rejected_before_upstream(
    gateway_factory: Factory, upstream: TestUpstream
) -> None:
    gateway = gateway_factory(
        service_config([upstream.address], policy={"request_body": {"max_bytes": 1000}})
    )
    with connect(gateway.port) as sock:
        sock.sendall(b"POST /echo HTTP/1.1\r\nHost: api.test\r\nContent-Length: 5000\r\n\r\n")
        response = read_response(sock)
        assert response.status == 413
        assert is_closed(sock)
    with connect(gateway.port) as sock:
        sock.sendall(
            b"POST /echo HTTP/1.1\r\nHost: api.test\r\nTransfer-Encoding: chunked\r\n\r\n"
            + b"7d0\r\n"
            + b"a" * 2000
            + b"\r\n0\r\n\r\n"
        )
        response = read_response(sock)
        assert response.status == 413
    assert upstream.requests == []


def test_expect_continue_answered_by_gateway(
    gateway_factory: Factory, upstream: TestUpstream
) -> None:
    gateway = gateway_factory(service_config([upstream.address]))
    with connect(gateway.port) as sock:
        sock.sendall(
            b"POST /echo HTTP/1.1\r\nHost: api.test\r\nContent-Length: 5\r\n"
            b"Expect: 100-continue\r\n\r\n"
        )
        interim = sock.recv(1024)
        assert interim.startswith(b"HTTP/1.1 100 Continue\r\n")
        sock.sendall(b"hello")
        response = read_response(sock)
    assert response.status == 200
    assert upstream.requests[-1].header("expect") is None


def test_upstream_down_gives_502(gateway_factory: Factory) -> None:
    gateway = gateway_factory(service_config([f"127.0.0.1:{free_port()}"]))
    response = request(gateway.port, get(gateway.port, "/"))
    assert response.status == 502
    assert response.json()["error"] == "bad_gateway"


def test_slow_upstream_gives_504(gateway_factory: Factory, upstream: TestUpstream) -> None:
    config = service_config([upstream.address])
    config["tenants"][0]["services"][0]["upstream"]["read_timeout"] = 0.3
    gateway = gateway_factory(config)
    response = request(gateway.port, get(gateway.port, "/slow?ms=2000"))
    assert response.status == 504
    assert response.json()["error"] == "gateway_timeout"


def test_upstream_reset_gives_502(gateway_factory: Factory, upstream: TestUpstream) -> None:
    config = service_config([upstream.address])
    config["tenants"][0]["services"][0]["upstream"]["retries"] = 0
    gateway = gateway_factory(config)
    response = request(gateway.port, get(gateway.port, "/reset"))
    assert response.status == 502


def test_idempotent_request_retried_on_other_target(
    gateway_factory: Factory, upstream: TestUpstream
) -> None:
    dead = f"127.0.0.1:{free_port()}"
    gateway = gateway_factory(service_config([dead, upstream.address]))
    statuses = [request(gateway.port, get(gateway.port, "/echo")).status for _ in range(6)]
    assert statuses == [200] * 6


def test_post_not_retried(gateway_factory: Factory, upstream: TestUpstream) -> None:
    dead = f"127.0.0.1:{free_port()}"
    config = service_config([dead, upstream.address])
    config["tenants"][0]["services"][0]["upstream"]["passive_health"] = {"max_failures": 100}
    gateway = gateway_factory(config)
    statuses = []
    for _ in range(4):
        raw = b"POST /echo HTTP/1.1\r\nHost: api.test\r\nContent-Length: 2\r\n\r\nhi"
        statuses.append(request(gateway.port, raw).status)
    assert sorted(statuses) == [200, 200, 502, 502]


def test_failing_target_ejected(gateway_factory: Factory, upstream: TestUpstream) -> None:
    dead = f"127.0.0.1:{free_port()}"
    config = service_config([dead, upstream.address])
    config["tenants"][0]["services"][0]["upstream"].update(
        {"retries": 0, "passive_health": {"max_failures": 1, "eject_seconds": 60}}
    )
    gateway = gateway_factory(config)
    first = [request(gateway.port, get(gateway.port, "/echo")).status for _ in range(2)]
    assert sorted(first) == [200, 502]
    later = [request(gateway.port, get(gateway.port, "/echo")).status for _ in range(6)]
    assert later == [200] * 6


def test_header_trickle_cut_off(gateway_factory: Factory, upstream: TestUpstream) -> None:
    config = service_config([upstream.address])
    config["limits"] = {"header_timeout": 0.5}
    gateway = gateway_factory(config)
    with connect(gateway.port) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\n")
        started = time.monotonic()
        closed = False
        for _ in range(40):
            try:
                sock.sendall(b"X-A: b\r\n")
            except OSError:
                closed = True
                break
            time.sleep(0.1)
        assert closed or is_closed(sock, timeout=2)
        assert time.monotonic() - started < 3.5
    assert upstream.requests == []


def test_access_log_line(gateway_factory: Factory, upstream: TestUpstream) -> None:
    gateway = gateway_factory(service_config([upstream.address]))
    request(gateway.port, get(gateway.port, "/echo", extra="X-Request-Id: log-1\r\n"))
    log_path = Path(gateway.config["access_log"]["path"])
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and "log-1" not in (
        log_path.read_text() if log_path.exists() else ""
    ):
        time.sleep(0.1)
    record = json.loads(log_path.read_text().strip().splitlines()[-1])
    assert record["request_id"] == "log-1"
    assert record["tenant"] == "acme"
    assert record["service"] == "api"
    assert record["route"] == "default"
    assert record["status"] == 200
    assert record["upstream"] == upstream.address
    assert record["duration_ms"] >= record["upstream_ms"] >= 0
    assert record["verdicts"] == []


def test_metrics_on_admin_listener(gateway_factory: Factory, upstream: TestUpstream) -> None:
    gateway = gateway_factory(service_config([upstream.address]), workers=2)
    for _ in range(4):
        request(gateway.port, get(gateway.port, "/echo"))
    request(gateway.port, get(gateway.port, "/", host="nowhere.test"))
    time.sleep(1.5)  # snapshots are written once a second
    url = f"http://127.0.0.1:{gateway.admin_port}/metrics"
    text = urllib.request.urlopen(url, timeout=5).read().decode()
    assert 'stockade_requests_total{service="api",status="200",tenant="acme"} 4.0' in text
    assert 'stockade_requests_total{service="-",status="404",tenant="-"} 1.0' in text
    assert "stockade_request_duration_seconds_bucket" in text


def _client_loop(port: int, stop: threading.Event, failures: list[str], counter: list[int]) -> None:
    while not stop.is_set():
        try:
            with connect(port) as sock:
                for _ in range(20):
                    sock.sendall(get(port, "/echo"))
                    response = read_response(sock)
                    if response.status != 200:
                        failures.append(f"status {response.status}")
                    counter[0] += 1
        except OSError as exc:
            failures.append(repr(exc))


def test_reload_under_load_drops_nothing(gateway_factory: Factory, upstream: TestUpstream) -> None:
    second = TestUpstream(name="second").start()
    try:
        gateway = gateway_factory(service_config([upstream.address]), workers=2)
        stop = threading.Event()
        failures: list[str] = []
        counter = [0]
        threads = [
            threading.Thread(target=_client_loop, args=(gateway.port, stop, failures, counter))
            for _ in range(4)
        ]
        for thread in threads:
            thread.start()
        time.sleep(0.5)
        config = service_config([second.address])
        config.update(
            {key: gateway.config[key] for key in ("listeners", "admin", "workers", "access_log")}
        )
        gateway.write_config(config)
        gateway.reload()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not second.requests:
            time.sleep(0.1)
        time.sleep(0.5)
        stop.set()
        for thread in threads:
            thread.join(10)
        assert failures == []
        assert counter[0] > 50
        assert second.requests, "the reloaded config never took effect"
    finally:
        second.stop()


def test_invalid_reload_keeps_old_config(gateway_factory: Factory, upstream: TestUpstream) -> None:
    gateway = gateway_factory(service_config([upstream.address]))
    gateway.config_path.write_text("tenants: [{id: Not Valid}]\n")
    gateway.reload()
    time.sleep(1.5)
    assert request(gateway.port, get(gateway.port, "/echo")).status == 200
    assert "config change rejected" in gateway.logs()


def test_reload_with_missing_crs_rejected(gateway_factory: Factory, upstream: TestUpstream,
                                          tmp_path: Path) -> None:
    gateway = gateway_factory(service_config([upstream.address]))
    config = dict(gateway.config)
    config["tenants"][0]["policy"] = {"waf": {"crs_path": str(tmp_path / "no-crs")}}
    gateway.write_config(config)
    gateway.reload()
    time.sleep(1.5)
    assert request(gateway.port, get(gateway.port, "/echo")).status == 200
    logs = gateway.logs()
    assert "config change rejected" in logs
    assert "has no rules/REQUEST-9*.conf" in logs
    assert "config is valid, reloading" not in logs


def test_reload_with_unreadable_openapi_rejected(gateway_factory: Factory,
                                                upstream: TestUpstream, tmp_path: Path) -> None:
    gateway = gateway_factory(service_config([upstream.address]))
    config = dict(gateway.config)
    missing = tmp_path / "no-such-openapi.yaml"
    config["tenants"][0]["services"][0]["openapi"] = str(missing)
    config["tenants"][0]["policy"] = {"protection": {"openapi": {"unknown_operation": "reject"}}}
    gateway.write_config(config)
    gateway.reload()
    # The supervisor builds the new stages in a child process, as `config validate` does.
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and "previous config keeps serving" not in gateway.logs():
        time.sleep(0.2)
    assert request(gateway.port, get(gateway.port, "/echo")).status == 200
    logs = gateway.logs()
    assert f"cannot read OpenAPI document {missing}" in logs
    assert "config is valid, reloading" not in logs
    assert "config reload rejected" not in logs  # no worker saw it


def test_graceful_shutdown_finishes_in_flight(
    gateway_factory: Factory, upstream: TestUpstream
) -> None:
    gateway = gateway_factory(service_config([upstream.address]))
    with connect(gateway.port) as sock:
        sock.sendall(get(gateway.port, "/slow?ms=800"))
        time.sleep(0.2)
        assert gateway.process is not None
        gateway.process.terminate()
        response = read_response(sock)
    assert response.status == 200
    assert gateway.process.wait(30) == 0


def _certificate(tmp_path: Path, name: str) -> tuple[str, str]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path = tmp_path / f"{name}.crt"
    key_path = tmp_path / f"{name}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return str(cert_path), str(key_path)


def _tls_get(port: int, hostname: str, cafile: str, **context_options: Any) -> tuple[str, int]:
    context = ssl.create_default_context(cafile=cafile)
    for name, value in context_options.items():
        setattr(context, name, value)
    with (
        socket.create_connection(("127.0.0.1", port), timeout=10) as raw,
        context.wrap_socket(raw, server_hostname=hostname) as sock,
    ):
        peer = sock.getpeercert()
        common_name = dict(item[0] for item in peer["subject"])["commonName"]
        sock.sendall(f"GET /echo HTTP/1.1\r\nHost: {hostname}\r\n\r\n".encode())
        return common_name, read_response(sock).status


def test_tls_certificate_per_hostname(
    gateway_factory: Factory, upstream: TestUpstream, tmp_path: Path
) -> None:
    a_cert, a_key = _certificate(tmp_path, "a.test")
    b_cert, b_key = _certificate(tmp_path, "b.test")
    port = free_port()
    config = service_config([upstream.address], host="a.test")
    config["tenants"][0]["services"][0]["hosts"] = ["a.test", "b.test"]
    config["listeners"] = [
        {
            "name": "tls",
            "address": f"127.0.0.1:{port}",
            "tls": {
                "certificates": [
                    {"hostnames": ["a.test"], "cert": a_cert, "key": a_key},
                    {"hostnames": ["b.test"], "cert": b_cert, "key": b_key},
                ]
            },
        }
    ]
    gateway = gateway_factory(config)
    gateway.port = port
    assert _tls_get(port, "a.test", a_cert) == ("a.test", 200)
    assert _tls_get(port, "b.test", b_cert) == ("b.test", 200)
    assert upstream.requests[-1].header("x-forwarded-proto") == "https"
    with pytest.raises(ssl.SSLError):
        _tls_get(
            port,
            "a.test",
            a_cert,
            maximum_version=ssl.TLSVersion.TLSv1_1,
            minimum_version=ssl.TLSVersion.TLSv1,
        )


def test_consumer_field_stripped_without_auth(gateway_factory: Factory,
                                              upstream: TestUpstream) -> None:
    gateway = gateway_factory(service_config([upstream.address]))
    forged = get(gateway.port, "/echo", extra="X-Consumer-Id: admin\r\n")
    assert request(gateway.port, forged).status == 200
    assert upstream.requests[-1].header("x-consumer-id") is None
