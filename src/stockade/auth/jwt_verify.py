"""Verification of a JWT against one tenant's configured issuers."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

import jwt

from stockade.auth.config import JwtAuth, JwtIssuer
from stockade.auth.jwks import KeySource
from stockade.auth.jwt_keys import VerificationKey
from stockade.auth.outcome import BEARER, AuthFailure

log = logging.getLogger(__name__)

MAX_KEYS_TRIED = 4  # keys tried for a token without 'kid'; bounds the work one token can cause

_FAILURE_OF_ERROR: tuple[tuple[type[Exception], str], ...] = (
    (jwt.ExpiredSignatureError, "jwt-expired"),
    (jwt.ImmatureSignatureError, "jwt-not-yet-valid"),
    (jwt.InvalidAudienceError, "jwt-wrong-audience"),
    (jwt.InvalidIssuerError, "jwt-wrong-issuer"),
    (jwt.MissingRequiredClaimError, "jwt-missing-claim"),
    (jwt.InvalidIssuedAtError, "jwt-invalid-iat"),
    (jwt.InvalidSignatureError, "jwt-bad-signature"),
    (jwt.InvalidKeyError, "jwt-key-mismatch"),
    (jwt.InvalidAlgorithmError, "jwt-algorithm-not-allowed"),
    (jwt.DecodeError, "jwt-malformed"),
)


@dataclass(frozen=True, slots=True)
class VerifiedToken:
    issuer: JwtIssuer
    claims: dict[str, Any]
    kid: str | None


def looks_like_jws(token: str) -> bool:
    return token.count(".") == 2


class JwtVerifier:
    def __init__(self, settings: JwtAuth, sources: dict[str, KeySource]) -> None:
        self.settings = settings
        self._issuers = {issuer.issuer: issuer for issuer in settings.issuers}
        self._sources = sources

    def knows_issuer_of(self, token: str) -> bool:
        return self._issuer_of(token) is not None

    async def verify(self, token: str) -> VerifiedToken | AuthFailure:
        if len(token) > self.settings.max_token_bytes:
            return _failure("jwt-too-large", f"token of {len(token)} bytes")
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            return _failure("jwt-malformed", "header is not valid JOSE")

        issuer = self._issuer_of(token)
        if issuer is None:
            return _failure("jwt-unknown-issuer", "no configured issuer matches 'iss'")

        algorithm = header.get("alg")
        kid = header.get("kid")
        evidence: dict[str, Any] = {
            "issuer": issuer.issuer,
            "alg": str(algorithm)[:32],
            "kid": str(kid)[:128],
        }
        if "crit" in header:
            return _failure(
                "jwt-unsupported-crit", "token has critical header parameters", evidence
            )
        if not isinstance(algorithm, str) or algorithm not in issuer.algorithms:
            return _failure(
                "jwt-algorithm-not-allowed", "algorithm not allowed for this issuer", evidence
            )
        if kid is not None and not isinstance(kid, str):
            return _failure("jwt-malformed", "'kid' is not a string", evidence)

        keys = await self._keys_for(issuer, kid, algorithm)
        if not keys:
            return _failure(
                "jwt-unknown-kid" if kid else "jwt-no-key",
                "no key of the issuer matches the token's kid and algorithm",
                evidence,
            )
        return self._decode(token, issuer, algorithm, kid, keys, evidence)

    async def _keys_for(
        self, issuer: JwtIssuer, kid: str | None, algorithm: str
    ) -> list[VerificationKey]:
        source = self._sources[issuer.issuer]
        keys = (await source.key_set()).candidates(kid, algorithm)
        if not keys and kid is not None and await source.refetch_for_kid(kid):
            keys = (await source.key_set()).candidates(kid, algorithm)
        return keys[:MAX_KEYS_TRIED]

    def _decode(
        self,
        token: str,
        issuer: JwtIssuer,
        algorithm: str,
        kid: str | None,
        keys: list[VerificationKey],
        evidence: dict[str, Any],
    ) -> VerifiedToken | AuthFailure:
        options: Any = {  # jwt.types.Options, which pyjwt before 2.10 lacks
            "require": list(issuer.required_claims),
            "verify_aud": bool(issuer.audiences),
        }
        failure = _failure("jwt-bad-signature", "signature does not verify", evidence)
        for key in keys:
            try:
                claims = jwt.decode(
                    token,
                    key.key,
                    algorithms=[algorithm],
                    options=options,
                    audience=issuer.audiences or None,
                    issuer=issuer.issuer,
                    leeway=issuer.clock_skew_seconds,
                )
            except jwt.InvalidSignatureError:
                continue
            except jwt.PyJWTError as error:
                return _failure(_reason_of(error), str(error), evidence)
            too_old = self._check_age(issuer, claims)
            if too_old is not None:
                return _failure(too_old, "token is older than max_age_seconds", evidence)
            return VerifiedToken(issuer, claims, kid)
        return failure

    @staticmethod
    def _check_age(issuer: JwtIssuer, claims: dict[str, Any]) -> str | None:
        if issuer.max_age_seconds is None:
            return None
        issued = claims.get("iat")
        if not isinstance(issued, int | float) or isinstance(issued, bool):
            return "jwt-missing-claim"
        if time.time() - issued > issuer.max_age_seconds + issuer.clock_skew_seconds:
            return "jwt-too-old"
        return None

    def _issuer_of(self, token: str) -> JwtIssuer | None:
        try:
            claims = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError:
            return None
        name = claims.get("iss")
        return self._issuers.get(name) if isinstance(name, str) else None


def _reason_of(error: Exception) -> str:
    for kind, reason in _FAILURE_OF_ERROR:
        if isinstance(error, kind):
            return reason
    return "jwt-invalid"


def _failure(reason: str, message: str, evidence: dict[str, Any] | None = None) -> AuthFailure:
    return AuthFailure(reason, BEARER, message, evidence=evidence or {})
