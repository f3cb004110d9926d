"""TLS from the gateway to its backends, against local TLS servers with test-made certificates."""

from __future__ import annotations

import ssl
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.serialization import Encoding

from stockade.gateway.upstream_tls import spki_pin
from tests.support.certs import CertificateAuthority, Issued
from tests.support.client import request
from tests.support.gateway import GatewayProcess, service_config
from tests.support.upstream import TestUpstream

Factory = Callable[..., GatewayProcess]
GET = b"GET /echo HTTP/1.1\r\nHost: api.test\r\n\r\n"


@pytest.fixture
def ca(tmp_path: Path) -> CertificateAuthority:
    return CertificateAuthority(tmp_path)


def server_context(leaf: Issued, client_ca: str | None = None) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(leaf.cert_path, leaf.key_path)
    if client_ca is not None:
        context.load_verify_locations(cafile=client_ca)
        context.verify_mode = ssl.CERT_REQUIRED
    return context


@pytest.fixture
def tls_upstream_factory() -> Iterator[Callable[[ssl.SSLContext], TestUpstream]]:
    servers: list[TestUpstream] = []

    def start(context: ssl.SSLContext) -> TestUpstream:
        server = TestUpstream(ssl_context=context).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


def tls_config(upstream: TestUpstream, **tls: Any) -> dict[str, Any]:
    config = service_config([upstream.address])
    config["tenants"][0]["services"][0]["upstream"]["tls"] = tls
    config["tenants"][0]["services"][0]["upstream"]["retries"] = 0
    return config


def test_valid_chain_verified(
    gateway_factory: Factory, tls_upstream_factory: Any, ca: CertificateAuthority
) -> None:
    leaf = ca.issue("backend", dns=["backend.test"], ips=["127.0.0.1"])
    upstream = tls_upstream_factory(server_context(leaf))
    gateway = gateway_factory(tls_config(upstream, ca_file=ca.cert_path))
    with_names = gateway_factory(
        tls_config(upstream, ca_file=ca.cert_path, server_name="backend.test")
    )
    for _ in range(3):
        assert request(gateway.port, GET).status == 200
    assert request(with_names.port, GET).status == 200
    assert upstream.connections == 2  # one pooled TLS connection per gateway


def test_keep_alive_over_tls_reuses_connection(
    gateway_factory: Factory, tls_upstream_factory: Any, ca: CertificateAuthority
) -> None:
    leaf = ca.issue("backend", ips=["127.0.0.1"])
    upstream = tls_upstream_factory(server_context(leaf))
    gateway = gateway_factory(tls_config(upstream, ca_file=ca.cert_path))
    statuses = [request(gateway.port, GET).status for _ in range(5)]
    assert statuses == [200] * 5
    assert upstream.connections == 1


def test_self_signed_without_ca_rejected(
    gateway_factory: Factory, tls_upstream_factory: Any, tmp_path: Path
) -> None:
    other = CertificateAuthority(tmp_path, "Other CA")
    leaf = other.issue("backend", ips=["127.0.0.1"])
    upstream = tls_upstream_factory(server_context(leaf))
    gateway = gateway_factory(tls_config(upstream))
    response = request(gateway.port, GET)
    assert response.status == 502
    assert response.json() == {
        "error": "bad_gateway",
        "message": "the upstream is unavailable",
        "request_id": response.headers["x-request-id"],
    }
    assert upstream.requests == []
    assert "certificate verification failed" in gateway.logs()


def test_wrong_hostname_rejected(
    gateway_factory: Factory, tls_upstream_factory: Any, ca: CertificateAuthority
) -> None:
    leaf = ca.issue("backend", dns=["backend.test"])
    upstream = tls_upstream_factory(server_context(leaf))
    gateway = gateway_factory(tls_config(upstream, ca_file=ca.cert_path, server_name="other.test"))
    assert request(gateway.port, GET).status == 502
    assert upstream.requests == []
    assert "mismatch" in gateway.logs().lower()


def test_expired_certificate_rejected(
    gateway_factory: Factory, tls_upstream_factory: Any, ca: CertificateAuthority
) -> None:
    leaf = ca.issue("backend", ips=["127.0.0.1"], expired=True)
    upstream = tls_upstream_factory(server_context(leaf))
    gateway = gateway_factory(tls_config(upstream, ca_file=ca.cert_path))
    assert request(gateway.port, GET).status == 502
    assert "expired" in gateway.logs()


def test_backend_requiring_client_certificate(
    gateway_factory: Factory, tls_upstream_factory: Any, ca: CertificateAuthority
) -> None:
    leaf = ca.issue("backend", ips=["127.0.0.1"])
    client = ca.issue("gateway-client", client=True)
    upstream = tls_upstream_factory(server_context(leaf, client_ca=ca.cert_path))
    without = gateway_factory(tls_config(upstream, ca_file=ca.cert_path))
    assert request(without.port, GET).status == 502
    assert upstream.requests == []
    with_cert = gateway_factory(
        tls_config(
            upstream, ca_file=ca.cert_path, client_cert=client.cert_path, client_key=client.key_path
        )
    )
    assert request(with_cert.port, GET).status == 200
    assert upstream.last_client_certificate is not None


def test_pin_mismatch_rejected(
    gateway_factory: Factory, tls_upstream_factory: Any, ca: CertificateAuthority
) -> None:
    leaf = ca.issue("backend", ips=["127.0.0.1"])
    other = ca.issue("other", ips=["127.0.0.1"])
    upstream = tls_upstream_factory(server_context(leaf))
    der = leaf.certificate.public_bytes(Encoding.DER)
    other_der = other.certificate.public_bytes(Encoding.DER)
    pinned = gateway_factory(tls_config(upstream, ca_file=ca.cert_path, pins=[spki_pin(der)]))
    assert request(pinned.port, GET).status == 200
    wrong = gateway_factory(tls_config(upstream, ca_file=ca.cert_path, pins=[spki_pin(other_der)]))
    assert request(wrong.port, GET).status == 502
    assert "matches no configured pin" in wrong.logs()


def test_verification_off_warns(
    gateway_factory: Factory, tls_upstream_factory: Any, tmp_path: Path
) -> None:
    leaf = CertificateAuthority(tmp_path, "Unknown CA").issue("backend", ips=["127.0.0.1"])
    upstream = tls_upstream_factory(server_context(leaf))
    gateway = gateway_factory(tls_config(upstream, verify=False))
    assert request(gateway.port, GET).status == 200
    assert "verification is OFF" in gateway.logs()


def test_mismatched_client_key_rejected_at_start(
    tmp_path: Path, ca: CertificateAuthority, upstream: TestUpstream
) -> None:
    first = ca.issue("one", client=True)
    second = ca.issue("two", client=True)
    folder = tmp_path / "gw"
    folder.mkdir()
    process = GatewayProcess(
        tls_config(upstream, client_cert=first.cert_path, client_key=second.key_path), folder
    )
    with pytest.raises(RuntimeError) as caught:
        process.start()
    assert "does not match key" in str(caught.value)


def test_expired_client_certificate_rejected_at_start(
    tmp_path: Path, ca: CertificateAuthority, upstream: TestUpstream
) -> None:
    expired = ca.issue("old-client", client=True, expired=True)
    folder = tmp_path / "gw"
    folder.mkdir()
    process = GatewayProcess(
        tls_config(upstream, client_cert=expired.cert_path, client_key=expired.key_path), folder
    )
    with pytest.raises(RuntimeError) as caught:
        process.start()
    assert "expired on" in str(caught.value)


def test_forged_identity_fields_stripped(gateway_factory: Factory, upstream: TestUpstream) -> None:
    config = service_config(
        [upstream.address],
        identity_fields={"consumer": "X-Consumer-Id", "client_subject": "X-Client-Subject"},
    )
    gateway = gateway_factory(config)
    forged = (
        b"GET /echo HTTP/1.1\r\nHost: api.test\r\nX-Consumer-Id: admin\r\n"
        b"x-client-subject: CN=admin\r\n\r\n"
    )
    assert request(gateway.port, forged).status == 200
    seen = upstream.requests[-1]
    assert seen.header("x-consumer-id") is None
    assert seen.header("x-client-subject") is None


def test_client_certificate_reloaded_on_change(
    gateway_factory: Factory, tls_upstream_factory: Any, ca: CertificateAuthority, tmp_path: Path
) -> None:
    leaf = ca.issue("backend", ips=["127.0.0.1"])
    first = ca.issue("client-one", client=True)
    upstream = tls_upstream_factory(server_context(leaf, client_ca=ca.cert_path))
    cert_path, key_path = tmp_path / "client.crt", tmp_path / "client.key"
    cert_path.write_bytes(Path(first.cert_path).read_bytes())
    key_path.write_bytes(Path(first.key_path).read_bytes())
    config = tls_config(
        upstream, ca_file=ca.cert_path, client_cert=str(cert_path), client_key=str(key_path)
    )
    config["tenants"][0]["services"][0]["upstream"]["max_idle_per_target"] = 0
    gateway = gateway_factory(config)
    assert request(gateway.port, GET).status == 200
    assert upstream.last_client_certificate is not None
    assert ("commonName", "client-one") in [
        item[0] for item in upstream.last_client_certificate["subject"]
    ]
    second = ca.issue("client-two", client=True)
    cert_path.write_bytes(Path(second.cert_path).read_bytes())
    key_path.write_bytes(Path(second.key_path).read_bytes())
    deadline = time.monotonic() + 15
    subject: list[Any] = []
    while time.monotonic() < deadline:
        assert request(gateway.port, GET).status == 200
        subject = [item[0] for item in upstream.last_client_certificate["subject"]]
        if ("commonName", "client-two") in subject:
            break
        time.sleep(0.5)
    assert ("commonName", "client-two") in subject
