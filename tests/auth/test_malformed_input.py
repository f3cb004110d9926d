"""Hostile or broken credentials must end in a clean 401, never an exception."""

from __future__ import annotations

import base64
import json
import random
import secrets
from typing import Any

from stockade.auth.hashing import hash_password
from tests.auth.support import Gate, gateway_config
from tests.auth.tokens import ISSUER, ec_key, ed_key, public_jwk, rsa_key, secret_jwk

RSA = rsa_key()
EC = ec_key()
ED = ed_key()
SECRET = secrets.token_bytes(64)
ALGORITHMS: list[Any] = ["RS256", "HS256", "ES256", "EdDSA", "PS512", "none", None, 1, [], "HS512"]
KIDS: list[Any] = ["r", "e", "d", "s", None, 1, {}, "x" * 500]
PAYLOADS: list[Any] = [
    {"iss": ISSUER, "exp": 2e9},
    {"iss": "hs", "exp": 2e9},
    {"iss": 1},
    [],
    "text",
    {"iss": ISSUER, "exp": "soon"},
    {"iss": ISSUER, "exp": 2e9, "sub": {"a": 1}},
]


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def gate() -> Gate:
    issuers = [
        {
            "issuer": ISSUER,
            "algorithms": ["RS256", "PS512", "ES256", "EdDSA"],
            "keys": [
                {"jwk": public_jwk(RSA, "r")},
                {"jwk": public_jwk(EC, "e")},
                {"jwk": public_jwk(ED, "d")},
            ],
        },
        {
            "issuer": "hs",
            "algorithms": ["HS256", "HS512"],
            "keys": [{"jwk": secret_jwk(SECRET, "s")}],
        },
    ]
    consumers = [
        {"id": "ops", "basic": {"username": "alice", "password_hash": hash_password("x" * 12)}}
    ]
    policy = {"auth": {"jwt": {"issuers": issuers}, "basic": {}, "api_key": {}}}
    return Gate(gateway_config(policy, consumers=consumers))


async def test_forged_jwt_matrix_rejected() -> None:
    g = gate()
    signatures = [b"", secrets.token_bytes(64), secrets.token_bytes(256)]
    for algorithm in ALGORITHMS:
        for kid in KIDS:
            header = b64(json.dumps({"alg": algorithm, "kid": kid}).encode())
            for payload in PAYLOADS:
                body = b64(json.dumps(payload).encode())
                for signature in signatures:
                    token = f"{header}.{body}.{b64(signature)}"
                    verdict, exchange = await g.request(
                        headers=[("Authorization", f"Bearer {token}")]
                    )
                    assert verdict.status == 401, (algorithm, kid, payload)
                    assert exchange.consumer is None


async def test_random_credentials_rejected() -> None:
    g = gate()
    rng = random.Random(7)
    alphabet = "abcAB09-_.=+/~:% \t\x7f\xe9"
    for _ in range(300):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 60)))
        for name, value in (
            ("Authorization", f"Bearer {text}"),
            ("Authorization", f"Basic {text}"),
            ("Authorization", text),
            ("X-API-Key", text),
        ):
            verdict, _ = await g.request(headers=[(name, value)])
            assert verdict.status == 401, (name, value)


async def test_basic_with_invalid_utf8_rejected() -> None:
    value = "Basic " + base64.b64encode(b"\xff\xfe:pw").decode()
    verdict, _ = await gate().request(headers=[("Authorization", value)])
    assert verdict.status == 401
    assert verdict.reason == "basic-malformed"
