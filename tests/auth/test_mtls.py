from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from stockade.auth.mtls import certificate_thumbprint, client_ca_for
from stockade.config.models import ListenerTls, TlsCertificate
from stockade.gateway.tls import TlsContexts
from stockade.gateway.worker import client_certificate_policies
from tests.auth.certs import Issued, issue, make_ca
from tests.auth.support import HOST, Gate, gateway_config
from tests.auth.tokens import ISSUER, claims, public_jwk, rsa_key

CLIENT_CA = make_ca("Acme Client CA")
OTHER_CA = make_ca("Someone Else CA")
SERVER_CA = make_ca("Acme Server CA")
SERVER = issue(SERVER_CA, HOST, client=False, sans=[x509.DNSName(HOST)])
GOOD = issue(
    CLIENT_CA, "billing-app", sans=[x509.UniformResourceIdentifier("spiffe://acme/billing")]
)
EXPIRED = issue(CLIENT_CA, "billing-app", expired=True)
FOREIGN = issue(OTHER_CA, "billing-app")
SIGNING_KEY = rsa_key()

CONSUMERS = [
    {
        "id": "billing",
        "groups": ["internal"],
        "certificate": {"subjects": ["O=Acme,CN=billing-app"]},
    },
    {"id": "spiffe-billing", "certificate": {"sans": ["URI:spiffe://acme/other"]}},
]


def mtls_config(
    directory: Path, *, required: bool = True, extra_auth: dict[str, Any] | None = None
) -> Any:
    ca_path = directory / "client-ca.pem"
    ca_path.write_bytes(CLIENT_CA.certificate.public_bytes(Encoding.PEM))
    auth = {"mtls": {"ca_bundle": str(ca_path), "required": required}, **(extra_auth or {})}
    return gateway_config({"auth": auth}, consumers=CONSUMERS)


@dataclass
class Answer:
    status: int | None  # None: the handshake or the connection failed
    consumer: str | None = None
    reason: str = ""


@pytest.fixture
async def tls_server(tmp_path: Path) -> AsyncIterator[Any]:
    """Start a TLS listener with the gateway's SNI contexts and our client CA settings."""
    servers: list[asyncio.Server] = []

    async def start(
        required: bool = True, certificate_name: str = HOST
    ) -> tuple[int, list[Answer]]:
        config = mtls_config(tmp_path, required=required)
        server_certificate = (
            SERVER
            if certificate_name == HOST
            else issue(
                SERVER_CA, certificate_name, client=False, sans=[x509.DNSName(certificate_name)]
            )
        )
        cert, key = server_certificate.write(tmp_path, "server")
        listener = TlsCertificate(hostnames=[certificate_name], cert=cert, key=key)
        contexts = TlsContexts(
            ListenerTls(certificates=[listener]),
            client_certificate_policies(config),
        )
        gate = Gate(config)
        answers: list[Answer] = []

        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            ssl_object = writer.get_extra_info("ssl_object")
            await reader.readline()
            der = ssl_object.getpeercert(binary_form=True)
            exchange = gate.exchange(
                sni=getattr(ssl_object, "stockade_sni", None), certificate_der=der
            )
            verdict = await gate.run(exchange)
            status = verdict.status if verdict.reject else 200
            answers.append(
                Answer(status, exchange.consumer.id if exchange.consumer else None, verdict.reason)
            )
            writer.write(f"{status}\n".encode())
            await writer.drain()
            writer.close()

        server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=contexts.front)
        servers.append(server)
        return server.sockets[0].getsockname()[1], answers

    yield start
    for server in servers:
        server.close()
        await server.wait_closed()


async def call(
    port: int, tmp_path: Path, client: Issued | None, check_hostname: bool = True
) -> int | None:
    context = ssl.create_default_context(cafile=None)
    context.check_hostname = check_hostname
    context.load_verify_locations(cadata=SERVER_CA.certificate.public_bytes(Encoding.PEM).decode())
    if client is not None:
        context.load_cert_chain(*client.write(tmp_path, "client"))
    try:
        reader, writer = await asyncio.open_connection(
            "127.0.0.1", port, ssl=context, server_hostname=HOST
        )
        writer.write(b"GET / HTTP/1.1\n")
        await writer.drain()
        line = await asyncio.wait_for(reader.readline(), 5)
        writer.close()
    except (ssl.SSLError, ConnectionError, OSError):
        return None
    return int(line) if line.strip() else None


async def test_valid_certificate_maps_consumer(tls_server: Any, tmp_path: Path) -> None:
    port, answers = await tls_server()
    assert await call(port, tmp_path, GOOD) == 200
    assert answers[0].consumer == "billing"


async def test_expired_certificate_fails_handshake(tls_server: Any, tmp_path: Path) -> None:
    port, answers = await tls_server()
    assert await call(port, tmp_path, EXPIRED) is None
    assert answers == []


async def test_wrong_ca_fails_handshake(tls_server: Any, tmp_path: Path) -> None:
    port, answers = await tls_server()
    assert await call(port, tmp_path, FOREIGN) is None
    assert answers == []


async def test_no_certificate_rejected_when_required(tls_server: Any, tmp_path: Path) -> None:
    # OpenSSL keeps the front context's optional verify mode across the SNI switch,
    # so the handshake completes and the auth stage rejects with 403.
    port, answers = await tls_server()
    assert await call(port, tmp_path, None) == 403
    assert answers[0].reason == "certificate-missing"


async def test_optional_certificate_lets_stage_decide(tls_server: Any, tmp_path: Path) -> None:
    port, answers = await tls_server(required=False)
    assert await call(port, tmp_path, None) == 401
    assert answers[0].reason == "credentials-missing"
    assert await call(port, tmp_path, GOOD) == 200
    assert await call(port, tmp_path, FOREIGN) is None


async def test_wildcard_listener_certificate_verifies_clients(
    tls_server: Any, tmp_path: Path
) -> None:
    # The listener's certificate is *.test while the service is api.test.
    port, answers = await tls_server(certificate_name="*.test")
    # OpenSSL will not match a one-label wildcard, so the client skips the hostname check.
    assert await call(port, tmp_path, GOOD, check_hostname=False) == 200
    assert answers[0].consumer == "billing"
    assert await call(port, tmp_path, FOREIGN, check_hostname=False) is None


def test_client_ca_for_maps_hostnames(tmp_path: Path) -> None:
    settings = client_ca_for(mtls_config(tmp_path))
    assert list(settings) == [HOST]
    assert settings[HOST].required
    assert settings[HOST].ca_bundle == str(tmp_path / "client-ca.pem")


def test_optional_route_makes_handshake_optional(tmp_path: Path) -> None:
    ca = str(tmp_path / "ca.pem")
    config = gateway_config(
        {"auth": {"mtls": {"ca_bundle": ca}}},
        routes=[
            {
                "id": "health",
                "path": "/health",
                "policy": {"auth": {"mtls": {"required": False}, "required": False}},
            }
        ],
    )
    assert not client_ca_for(config)[HOST].required


async def test_unmapped_certificate_rejected(tmp_path: Path) -> None:
    gate = Gate(mtls_config(tmp_path))
    stranger = issue(CLIENT_CA, "stranger")
    verdict, _ = await gate.request(sni=HOST, certificate_der=stranger.der)
    assert verdict.status == 403
    assert verdict.reason == "certificate-unknown-consumer"


async def test_certificate_from_other_hostname_rejected(tmp_path: Path) -> None:
    gate = Gate(mtls_config(tmp_path))
    verdict, _ = await gate.request(sni="other.test", certificate_der=GOOD.der)
    assert verdict.status == 403
    assert verdict.reason == "certificate-wrong-ca"


async def test_bound_token_needs_same_certificate(tmp_path: Path) -> None:
    jwt_auth = {
        "jwt": {
            "issuers": [
                {
                    "issuer": ISSUER,
                    "algorithms": ["RS256"],
                    "keys": [{"jwk": public_jwk(SIGNING_KEY, "k1")}],
                }
            ]
        }
    }
    gate = Gate(mtls_config(tmp_path, extra_auth=jwt_auth))
    bound = jwt.encode(
        claims(aud=None, cnf={"x5t#S256": certificate_thumbprint(GOOD.der)}),
        SIGNING_KEY,
        algorithm="RS256",
        headers={"kid": "k1"},
    )
    headers = [("Authorization", f"Bearer {bound}")]
    verdict, exchange = await gate.request(headers=headers, sni=HOST, certificate_der=GOOD.der)
    assert not verdict.reject
    assert exchange.consumer is not None and exchange.consumer.auth_method == "jwt"
    other = issue(CLIENT_CA, "billing-app")
    stolen, _ = await gate.request(headers=headers, sni=HOST, certificate_der=other.der)
    assert stolen.status == 401
    assert stolen.reason == "token-binding-mismatch"


async def test_bound_token_without_certificate_rejected(tmp_path: Path) -> None:
    jwt_auth = {
        "jwt": {
            "issuers": [
                {
                    "issuer": ISSUER,
                    "algorithms": ["RS256"],
                    "keys": [{"jwk": public_jwk(SIGNING_KEY, "k1")}],
                }
            ]
        }
    }
    gate = Gate(mtls_config(tmp_path, required=False, extra_auth=jwt_auth))
    bound = jwt.encode(
        claims(aud=None, cnf={"x5t#S256": certificate_thumbprint(GOOD.der)}),
        SIGNING_KEY,
        algorithm="RS256",
        headers={"kid": "k1"},
    )
    verdict, _ = await gate.request(headers=[("Authorization", f"Bearer {bound}")])
    assert verdict.status == 401
    assert verdict.reason == "token-binding-no-certificate"


async def test_consumer_mapped_by_san(tmp_path: Path) -> None:
    gate = Gate(mtls_config(tmp_path))
    by_san = issue(
        CLIENT_CA, "anything", sans=[x509.UniformResourceIdentifier("spiffe://acme/other")]
    )
    verdict, exchange = await gate.request(sni=HOST, certificate_der=by_san.der)
    assert not verdict.reject
    assert exchange.consumer is not None and exchange.consumer.id == "spiffe-billing"


def test_route_ca_bundle_must_match_service(tmp_path: Path) -> None:
    routes = [
        {
            "id": "admin",
            "path": "/admin",
            "policy": {"auth": {"mtls": {"ca_bundle": str(tmp_path / "other.pem")}}},
        }
    ]
    config = gateway_config(
        {"auth": {"mtls": {"ca_bundle": str(tmp_path / "ca.pem")}}}, routes=routes
    )
    with pytest.raises(ValueError, match=r"route admin: auth\.mtls\.ca_bundle"):
        Gate(config)
