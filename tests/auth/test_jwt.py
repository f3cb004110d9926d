from __future__ import annotations

import base64
import ipaddress
import json
import secrets
from collections.abc import AsyncIterator
from typing import Any

import jwt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from pydantic import ValidationError

from stockade.auth.jwks import RemoteJwks
from tests.auth.certs import issue, make_ca
from tests.auth.http_server import LocalAuthServer
from tests.auth.support import Gate, field, gateway_config
from tests.auth.tokens import (
    AUDIENCE,
    ISSUER,
    ec_key,
    ed_key,
    public_jwk,
    public_pem,
    rsa_key,
    secret_jwk,
    sign,
)

RSA_1 = rsa_key()
RSA_2 = rsa_key()
EC_1 = ec_key()
ED_1 = ed_key()
HMAC_SECRET = secrets.token_bytes(32)

CONSUMERS = [
    {
        "id": "alice",
        "groups": ["staff"],
        "token_subjects": [{"issuer": ISSUER, "subject": "user-1"}],
    }
]


def issuer(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"issuer": ISSUER, "audiences": [AUDIENCE], "algorithms": ["RS256"]}
    base.update(overrides)
    return base


def jwt_gate(*issuers: dict[str, Any], consumers: list[dict[str, Any]] | None = None) -> Gate:
    policy = {"auth": {"jwt": {"issuers": list(issuers)}}}
    return Gate(gateway_config(policy, consumers=CONSUMERS if consumers is None else consumers))


@pytest.fixture
async def remote(auth_server: LocalAuthServer) -> AsyncIterator[tuple[Gate, LocalAuthServer]]:
    auth_server.documents["/jwks"] = {"keys": [public_jwk(RSA_1, "k1")]}
    gate = jwt_gate(
        issuer(
            algorithms=["RS256", "PS256"],
            jwks_url=auth_server.url("/jwks"),
            jwks_refetch_cooldown_seconds=1,
        )
    )
    yield gate, auth_server
    await gate.close()


def bearer(token: str) -> list[tuple[str, str]]:
    return [("Authorization", f"Bearer {token}")]


def remote_source(gate: Gate) -> RemoteJwks:
    return next(item for item in gate.resources.items.values() if isinstance(item, RemoteJwks))


async def test_valid_token_from_jwks_url(remote: tuple[Gate, LocalAuthServer]) -> None:
    gate, _ = remote
    verdict, exchange = await gate.request(headers=bearer(sign(RSA_1, "RS256", "k1")))
    assert not verdict.reject
    assert exchange.consumer is not None
    assert exchange.consumer.id == "alice"
    assert exchange.consumer.groups == frozenset({"staff"})
    assert exchange.consumer.scopes == frozenset({"orders:read", "orders:write"})
    assert exchange.consumer.auth_method == "jwt"


async def test_ps256_token_passes(remote: tuple[Gate, LocalAuthServer]) -> None:
    gate, _ = remote
    verdict, _ = await gate.request(headers=bearer(sign(RSA_1, "PS256", "k1")))
    assert not verdict.reject


async def test_key_rotation_refetches_jwks(remote: tuple[Gate, LocalAuthServer]) -> None:
    gate, server = remote
    verdict, _ = await gate.request(headers=bearer(sign(RSA_1, "RS256", "k1")))
    assert not verdict.reject
    server.documents["/jwks"] = {"keys": [public_jwk(RSA_2, "k2")]}
    verdict, _ = await gate.request(headers=bearer(sign(RSA_2, "RS256", "k2")))
    assert not verdict.reject
    assert server.hits["/jwks"] == 2
    old, _ = await gate.request(headers=bearer(sign(RSA_1, "RS256", "k1")))
    assert old.status == 401
    assert old.reason == "jwt-unknown-kid"


async def test_unknown_kids_cannot_force_refetch_storm(
    remote: tuple[Gate, LocalAuthServer],
) -> None:
    gate, server = remote
    for index in range(30):
        verdict, _ = await gate.request(headers=bearer(sign(RSA_2, "RS256", f"random-{index}")))
        assert verdict.status == 401
        assert verdict.reason == "jwt-unknown-kid"
    # First load, then at most one refetch inside the one-second cooldown.
    assert server.hits["/jwks"] <= 2


async def test_unknown_kid_refetches_capped_per_hour(auth_server: LocalAuthServer) -> None:
    auth_server.documents["/jwks"] = {"keys": [public_jwk(RSA_1, "k1")]}
    gate = jwt_gate(
        issuer(
            jwks_url=auth_server.url("/jwks"),
            jwks_refetch_cooldown_seconds=1,
            jwks_max_refetches_per_hour=2,
        )
    )
    fetches_after_each = []
    try:
        for index in range(3):
            await gate.request(headers=bearer(sign(RSA_2, "RS256", f"r{index}")))
            # Age the recorded refetches past the cooldown instead of sleeping through it.
            source = remote_source(gate)
            source._refetch_times = type(source._refetch_times)(
                t - 5 for t in source._refetch_times
            )
            fetches_after_each.append(auth_server.hits["/jwks"])
    finally:
        await gate.close()
    # Initial load plus one refetch, a second refetch, then the cap of two per hour holds.
    assert fetches_after_each == [2, 3, 3]


async def test_algorithm_confusion_rejected(remote: tuple[Gate, LocalAuthServer]) -> None:
    gate, _ = remote
    # The classic attack: sign with HS256 using the issuer's RSA public key as the HMAC secret.
    header = base64.urlsafe_b64encode(
        json.dumps({"alg": "HS256", "typ": "JWT", "kid": "k1"}).encode()
    )
    payload = base64.urlsafe_b64encode(
        json.dumps({"iss": ISSUER, "aud": AUDIENCE, "sub": "user-1", "exp": 2_000_000_000}).encode()
    )
    import hashlib
    import hmac

    signing_input = header.rstrip(b"=") + b"." + payload.rstrip(b"=")
    signature = hmac.new(public_pem(RSA_1).encode(), signing_input, hashlib.sha256).digest()
    token = (signing_input + b"." + base64.urlsafe_b64encode(signature).rstrip(b"=")).decode()
    verdict, exchange = await gate.request(headers=bearer(token))
    assert verdict.status == 401
    assert verdict.reason == "jwt-algorithm-not-allowed"
    assert exchange.consumer is None


async def test_alg_none_rejected(remote: tuple[Gate, LocalAuthServer]) -> None:
    gate, _ = remote
    token = jwt.encode(
        {"iss": ISSUER, "aud": AUDIENCE, "sub": "user-1", "exp": 2_000_000_000},
        None,
        algorithm="none",
        headers={"kid": "k1"},
    )
    verdict, _ = await gate.request(headers=bearer(token))
    assert verdict.status == 401
    assert verdict.reason == "jwt-algorithm-not-allowed"


async def test_expired_token_rejected(remote: tuple[Gate, LocalAuthServer]) -> None:
    gate, _ = remote
    import time

    now = int(time.time())
    verdict, exchange = await gate.request(
        headers=bearer(sign(RSA_1, "RS256", "k1", exp=now - 120, iat=now - 600))
    )
    assert verdict.status == 401
    assert verdict.reason == "jwt-expired"
    assert field(verdict, "WWW-Authenticate") == ['Bearer realm="stockade", error="invalid_token"']
    assert exchange.events[0].evidence["kid"] == "k1"


async def test_expiry_within_clock_skew_accepted(remote: tuple[Gate, LocalAuthServer]) -> None:
    gate, _ = remote
    import time

    now = int(time.time())
    verdict, _ = await gate.request(
        headers=bearer(sign(RSA_1, "RS256", "k1", exp=now - 10, iat=now - 600))
    )
    assert not verdict.reject


async def test_future_nbf_rejected(remote: tuple[Gate, LocalAuthServer]) -> None:
    gate, _ = remote
    import time

    verdict, _ = await gate.request(
        headers=bearer(sign(RSA_1, "RS256", "k1", nbf=int(time.time()) + 600))
    )
    assert verdict.status == 401
    assert verdict.reason == "jwt-not-yet-valid"


async def test_wrong_audience_rejected(remote: tuple[Gate, LocalAuthServer]) -> None:
    gate, _ = remote
    verdict, _ = await gate.request(headers=bearer(sign(RSA_1, "RS256", "k1", aud="billing-api")))
    assert verdict.status == 401
    assert verdict.reason == "jwt-wrong-audience"


async def test_missing_exp_rejected(remote: tuple[Gate, LocalAuthServer]) -> None:
    gate, _ = remote
    verdict, _ = await gate.request(headers=bearer(sign(RSA_1, "RS256", "k1", exp=None)))
    assert verdict.status == 401
    assert verdict.reason == "jwt-missing-claim"


async def test_tampered_signature_rejected(remote: tuple[Gate, LocalAuthServer]) -> None:
    gate, _ = remote
    token = sign(RSA_1, "RS256", "k1")
    head, body, signature = token.split(".")
    flipped = signature[:-2] + ("A" if signature[-2] != "A" else "B") + signature[-1]
    verdict, _ = await gate.request(headers=bearer(f"{head}.{body}.{flipped}"))
    assert verdict.status == 401
    assert verdict.reason == "jwt-bad-signature"


async def test_tampered_payload_rejected(remote: tuple[Gate, LocalAuthServer]) -> None:
    gate, _ = remote
    token = sign(RSA_1, "RS256", "k1")
    head, _, signature = token.split(".")
    forged = (
        base64.urlsafe_b64encode(
            json.dumps(
                {"iss": ISSUER, "aud": AUDIENCE, "sub": "admin", "exp": 2_000_000_000}
            ).encode()
        )
        .rstrip(b"=")
        .decode()
    )
    verdict, _ = await gate.request(headers=bearer(f"{head}.{forged}.{signature}"))
    assert verdict.status == 401
    assert verdict.reason == "jwt-bad-signature"


async def test_unknown_issuer_rejected(remote: tuple[Gate, LocalAuthServer]) -> None:
    gate, _ = remote
    verdict, _ = await gate.request(
        headers=bearer(sign(RSA_1, "RS256", "k1", iss="https://evil.test"))
    )
    assert verdict.status == 401
    assert verdict.reason == "jwt-unknown-issuer"


async def test_unlisted_subject_accepted_by_default(remote: tuple[Gate, LocalAuthServer]) -> None:
    gate, _ = remote
    verdict, exchange = await gate.request(
        headers=bearer(sign(RSA_1, "RS256", "k1", sub="user-77"))
    )
    assert not verdict.reject
    assert exchange.consumer is not None and exchange.consumer.id == "user-77"


async def test_unlisted_subject_rejected_when_configured() -> None:
    gate = jwt_gate(
        issuer(
            algorithms=["ES256"], keys=[{"jwk": public_jwk(EC_1, "e1")}], unknown_consumers="reject"
        )
    )
    verdict, _ = await gate.request(headers=bearer(sign(EC_1, "ES256", "e1", sub="user-77")))
    assert verdict.status == 401
    assert verdict.reason == "token-unknown-consumer"
    listed, _ = await gate.request(headers=bearer(sign(EC_1, "ES256", "e1")))
    assert not listed.reject


async def test_es256_eddsa_and_pem_keys() -> None:
    gate = jwt_gate(
        issuer(
            algorithms=["ES256", "EdDSA", "RS256"],
            keys=[
                {"jwk": public_jwk(EC_1, "e1")},
                {"jwk": public_jwk(ED_1, "d1")},
                {"pem": public_pem(RSA_2)},
            ],
        )
    )
    for private, algorithm, kid in (
        (EC_1, "ES256", "e1"),
        (ED_1, "EdDSA", "d1"),
        (RSA_2, "RS256", None),
    ):
        verdict, _ = await gate.request(headers=bearer(sign(private, algorithm, kid)))
        assert not verdict.reject, algorithm


async def test_ec_key_rejects_rsa_signed_token() -> None:
    gate = jwt_gate(issuer(algorithms=["ES256", "RS256"], keys=[{"jwk": public_jwk(EC_1, "e1")}]))
    verdict, _ = await gate.request(headers=bearer(sign(RSA_1, "RS256", "e1")))
    assert verdict.status == 401
    assert verdict.reason == "jwt-unknown-kid"


async def test_hs256_inline_secret() -> None:
    gate = jwt_gate(issuer(algorithms=["HS256"], keys=[{"jwk": secret_jwk(HMAC_SECRET, "s1")}]))
    verdict, _ = await gate.request(headers=bearer(sign(HMAC_SECRET, "HS256", "s1")))
    assert not verdict.reject
    wrong, _ = await gate.request(headers=bearer(sign(secrets.token_bytes(32), "HS256", "s1")))
    assert wrong.reason == "jwt-bad-signature"


async def test_jwks_file(tmp_path: Any) -> None:
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps({"keys": [public_jwk(RSA_2, "f1")]}))
    gate = jwt_gate(issuer(jwks_file=str(path)))
    verdict, _ = await gate.request(headers=bearer(sign(RSA_2, "RS256", "f1")))
    assert not verdict.reject


async def test_jwks_server_down_rejects_without_crash(auth_server: LocalAuthServer) -> None:
    gate = jwt_gate(issuer(jwks_url=auth_server.url("/missing")))
    try:
        verdict, _ = await gate.request(headers=bearer(sign(RSA_1, "RS256", "k1")))
    finally:
        await gate.close()
    assert verdict.status == 401
    assert verdict.reason == "jwt-unknown-kid"


async def test_malformed_bearer_rejected(remote: tuple[Gate, LocalAuthServer]) -> None:
    gate, _ = remote
    for token in ("not a token", "a.b.c", "é" * 3):
        verdict, _ = await gate.request(headers=[("Authorization", f"Bearer {token}")])
        assert verdict.status == 401, token


async def test_missing_token_gets_bare_challenge(remote: tuple[Gate, LocalAuthServer]) -> None:
    gate, _ = remote
    verdict, _ = await gate.request()
    assert verdict.status == 401
    assert field(verdict, "WWW-Authenticate") == ['Bearer realm="stockade"']


def test_config_rejects_hmac_mixed_with_public_key_algorithms() -> None:
    with pytest.raises(ValidationError, match="mixes HMAC"):
        gateway_config(
            {
                "auth": {
                    "jwt": {
                        "issuers": [
                            issuer(
                                algorithms=["RS256", "HS256"], jwks_url="http://127.0.0.1:1/jwks"
                            )
                        ]
                    }
                }
            }
        )


def test_config_rejects_alg_none() -> None:
    with pytest.raises(ValidationError, match="algorithms"):
        gateway_config(
            {
                "auth": {
                    "jwt": {
                        "issuers": [issuer(algorithms=["none"], jwks_url="http://127.0.0.1:1/jwks")]
                    }
                }
            }
        )


def test_config_rejects_private_jwk() -> None:
    private = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(RSA_1))
    with pytest.raises(ValueError, match="private key material"):
        jwt_gate(issuer(keys=[{"jwk": private}]))


async def test_jwks_refreshed_in_background(auth_server: LocalAuthServer) -> None:
    import asyncio

    auth_server.documents["/jwks"] = {"keys": [public_jwk(RSA_1, "k1")]}
    gate = jwt_gate(issuer(jwks_url=auth_server.url("/jwks"), jwks_refresh_seconds=1))
    try:
        assert not (await gate.request(headers=bearer(sign(RSA_1, "RS256", "k1"))))[0].reject
        auth_server.documents["/jwks"] = {"keys": [public_jwk(RSA_2, "k1")]}
        await asyncio.sleep(1.5)
        # The refresh replaced the key under the same kid without any unknown-kid refetch.
        assert auth_server.hits["/jwks"] == 2
        old, _ = await gate.request(headers=bearer(sign(RSA_1, "RS256", "k1")))
        new, _ = await gate.request(headers=bearer(sign(RSA_2, "RS256", "k1")))
    finally:
        await gate.close()
    assert old.reason == "jwt-bad-signature"
    assert not new.reject


async def test_jwks_over_https_with_private_ca(tmp_path: Any) -> None:
    ca = make_ca("IdP CA")
    loopback = x509.IPAddress(ipaddress.ip_address("127.0.0.1"))
    server_cert = issue(ca, "127.0.0.1", client=False, sans=[loopback])
    server = LocalAuthServer(server_cert.write(tmp_path, "idp")).start()
    ca_path = tmp_path / "idp-ca.pem"
    ca_path.write_bytes(ca.certificate.public_bytes(Encoding.PEM))
    server.documents["/jwks"] = {"keys": [public_jwk(RSA_1, "k1")]}
    trusted = jwt_gate(issuer(jwks_url=server.url("/jwks"), tls_ca_bundle=str(ca_path)))
    untrusted = jwt_gate(issuer(jwks_url=server.url("/jwks")))
    try:
        ok, _ = await trusted.request(headers=bearer(sign(RSA_1, "RS256", "k1")))
        refused, _ = await untrusted.request(headers=bearer(sign(RSA_1, "RS256", "k1")))
    finally:
        await trusted.close()
        await untrusted.close()
        server.stop()
    assert not ok.reject
    assert refused.status == 401
    assert refused.reason == "jwt-unknown-kid"


def test_short_rsa_key_rejected() -> None:
    from cryptography.hazmat.primitives.asymmetric import rsa

    weak = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    with pytest.raises(ValueError, match="1024 bits"):
        jwt_gate(issuer(keys=[{"jwk": public_jwk(weak, "weak")}]))


async def test_jwks_server_down_not_asked_per_request(auth_server: LocalAuthServer) -> None:
    gate = jwt_gate(issuer(jwks_url=auth_server.url("/missing")))
    try:
        for _ in range(20):
            verdict, _ = await gate.request(headers=bearer(sign(RSA_1, "RS256", "k1")))
            assert verdict.status == 401
    finally:
        await gate.close()
    # One first-load attempt; the unknown-kid refetch falls inside the same cooldown.
    assert auth_server.hits["/missing"] == 1
