"""JWT verification keys: parsed from PEM or JWK, each tied to the algorithms it may verify.

A key is used only with algorithms of its own type: an ``oct`` secret with
HS*, an RSA key with RS*/PS*, an EC key with the ES* of its curve, an OKP key
with EdDSA. So an RSA public key can never be fed to HMAC as a secret, which
is the algorithm-confusion attack.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa
from cryptography.hazmat.primitives.serialization import load_pem_public_key

log = logging.getLogger(__name__)

MIN_HMAC_SECRET_BYTES = {
    "HS256": 32,
    "HS384": 48,
    "HS512": 64,
}  # RFC 7518 3.2: at least the hash size
EC_CURVE_OF_ALGORITHM = {"ES256": "P-256", "ES384": "P-384", "ES512": "P-521"}
MIN_RSA_KEY_BITS = (
    2048  # NIST SP 800-131A: shorter RSA keys are no longer acceptable for signatures
)
MAX_JWKS_KEYS = 100  # a JWKS with more keys than this is truncated; real issuers publish a handful


class JwtKeyError(ValueError):
    """A configured or fetched key cannot be used."""


@dataclass(frozen=True, slots=True)
class VerificationKey:
    kid: str | None
    kty: str  # oct, RSA, EC or OKP
    curve: str | None
    alg: str | None  # the JWK's own 'alg', when it names one
    key: Any  # bytes for HMAC, a cryptography public key otherwise

    def accepts(self, algorithm: str) -> bool:
        if self.alg is not None and self.alg != algorithm:
            return False
        if algorithm.startswith("HS"):
            return self.kty == "oct" and len(self.key) >= MIN_HMAC_SECRET_BYTES[algorithm]
        if algorithm.startswith(("RS", "PS")):
            return self.kty == "RSA"
        if algorithm.startswith("ES"):
            return self.kty == "EC" and self.curve == EC_CURVE_OF_ALGORITHM.get(algorithm)
        if algorithm == "EdDSA":
            return self.kty == "OKP"
        return False


def key_from_jwk(data: Mapping[str, Any], kid: str | None = None) -> VerificationKey:
    """Parse one JWK; private keys are refused so that no secret sits in a public key set."""
    if "d" in data or "p" in data:
        raise JwtKeyError("the JWK contains private key material; configure only the public key")
    try:
        parsed = jwt.PyJWK(dict(data))
    except (jwt.PyJWKError, jwt.InvalidKeyError, ValueError, TypeError) as error:
        raise JwtKeyError(f"invalid JWK (kid {data.get('kid')!r}): {error}") from None
    kty = str(data.get("kty"))
    curve = data.get("crv")
    alg = data.get("alg")
    _check_strength(parsed.key, data.get("kid"))
    return VerificationKey(
        kid or data.get("kid"),
        kty,
        str(curve) if curve else None,
        str(alg) if alg else None,
        parsed.key,
    )


def key_from_pem(pem: str, kid: str | None) -> VerificationKey:
    """Parse a PEM public key or certificate."""
    raw = pem.encode("ascii", "replace")
    if b"PRIVATE KEY" in raw:
        raise JwtKeyError("the PEM contains a private key; configure the public key or certificate")
    try:
        if b"BEGIN CERTIFICATE" in raw:
            public: Any = x509.load_pem_x509_certificate(raw).public_key()
        else:
            public = load_pem_public_key(raw)
    except ValueError as error:
        raise JwtKeyError(f"invalid PEM key (kid {kid!r}): {error}") from None
    _check_strength(public, kid)
    if isinstance(public, rsa.RSAPublicKey):
        return VerificationKey(kid, "RSA", None, None, public)
    if isinstance(public, ec.EllipticCurvePublicKey):
        curve = {"secp256r1": "P-256", "secp384r1": "P-384", "secp521r1": "P-521"}.get(
            public.curve.name
        )
        return VerificationKey(kid, "EC", curve, None, public)
    if isinstance(public, ed25519.Ed25519PublicKey | ed448.Ed448PublicKey):
        return VerificationKey(kid, "OKP", None, None, public)
    raise JwtKeyError(f"unsupported PEM key type {type(public).__name__} (kid {kid!r})")


def _check_strength(key: Any, kid: object) -> None:
    if isinstance(key, rsa.RSAPublicKey) and key.key_size < MIN_RSA_KEY_BITS:
        raise JwtKeyError(
            f"RSA key (kid {kid!r}) has {key.key_size} bits; use one of at least {MIN_RSA_KEY_BITS}"
        )


def keys_from_jwks(document: Any, source: str) -> list[VerificationKey]:
    """Parse a JWKS; keys that are unusable or not for signatures are skipped with a log line."""
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise JwtKeyError(f"JWKS from {source} is not an object with a 'keys' list")
    keys: list[VerificationKey] = []
    for entry in document["keys"][:MAX_JWKS_KEYS]:
        if not isinstance(entry, dict):
            continue
        if entry.get("use", "sig") != "sig":
            continue
        try:
            keys.append(key_from_jwk(entry))
        except JwtKeyError as error:
            log.warning("skipping key from JWKS %s: %s", source, error)
    return keys


def load_jwks_file(path: str) -> list[VerificationKey]:
    try:
        with open(path, encoding="utf-8") as handle:
            document = json.load(handle)
    except (OSError, ValueError) as error:
        raise JwtKeyError(f"cannot read JWKS file {path}: {error}") from None
    return keys_from_jwks(document, path)


class KeySet:
    """Keys of one issuer, found by 'kid' and algorithm."""

    __slots__ = ("_by_kid", "keys")

    def __init__(self, keys: Iterable[VerificationKey]) -> None:
        self.keys = tuple(keys)
        self._by_kid: dict[str, list[VerificationKey]] = {}
        for key in self.keys:
            if key.kid is not None:
                self._by_kid.setdefault(key.kid, []).append(key)

    def has_kid(self, kid: str) -> bool:
        return kid in self._by_kid

    def candidates(self, kid: str | None, algorithm: str) -> list[VerificationKey]:
        """Keys that may verify a token with this header; all keys of the right type without kid."""
        pool = self._by_kid.get(kid, []) if kid is not None else self.keys
        return [key for key in pool if key.accepts(algorithm)]
