"""Bearer tokens (RFC 6750): JWTs verified locally, other tokens by introspection."""

from __future__ import annotations

import logging
from typing import Any

from stockade.auth.basic import parse_authorization
from stockade.auth.directory import ConsumerDirectory
from stockade.auth.introspection import IntrospectionUnavailable, Introspector
from stockade.auth.jwt_verify import JwtVerifier, VerifiedToken, looks_like_jws
from stockade.auth.mtls import check_token_binding
from stockade.auth.outcome import BEARER, AuthFailure, AuthOutcome
from stockade.gateway.exchange import Consumer, Exchange

log = logging.getLogger(__name__)

# RFC 6750 2.1 b64token: ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" followed by "=" padding
_TOKEN_CHARS = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/")
MAX_BEARER_TOKEN_BYTES = 16 * 1024  # larger tokens are rejected before any parsing


def is_b64token(token: bytes) -> bool:
    body = token.rstrip(b"=")
    return bool(body) and all(char in _TOKEN_CHARS for char in body)


def scopes_of(claims: dict[str, Any], claim: str) -> frozenset[str]:
    value = claims.get(claim)
    if isinstance(value, str):
        return frozenset(value.split())
    if isinstance(value, list):
        return frozenset(item for item in value if isinstance(item, str))
    return frozenset()


class BearerAuthenticator:
    scheme = BEARER

    def __init__(
        self,
        directory: ConsumerDirectory,
        verifier: JwtVerifier | None,
        introspector: Introspector | None,
    ) -> None:
        self._directory = directory
        self._verifier = verifier
        self._introspector = introspector

    async def authenticate(self, exchange: Exchange) -> AuthOutcome:
        value = exchange.request.fields.get(b"authorization")
        parsed = parse_authorization(value) if value is not None else None
        if parsed is None or parsed[0] != b"bearer":
            return None
        raw = parsed[1]
        if len(raw) > MAX_BEARER_TOKEN_BYTES or not is_b64token(raw):
            return AuthFailure("bearer-malformed", BEARER, "token is not an RFC 6750 b64token")
        token = raw.decode("ascii")
        if (
            self._verifier is not None
            and looks_like_jws(token)
            and (self._introspector is None or self._verifier.knows_issuer_of(token))
        ):
            return await self._from_jwt(token, exchange)
        if self._introspector is not None:
            return await self._from_introspection(token, exchange)
        return AuthFailure("jwt-malformed", BEARER, "token is not a JWT")

    async def _from_jwt(self, token: str, exchange: Exchange) -> AuthOutcome:
        if self._verifier is None:
            return None
        verified = await self._verifier.verify(token)
        if isinstance(verified, AuthFailure):
            return verified
        binding = check_token_binding(verified.claims, exchange)
        if binding is not None:
            return binding
        return self._consumer_from_jwt(verified)

    def _consumer_from_jwt(self, verified: VerifiedToken) -> AuthOutcome:
        issuer = verified.issuer
        claims = verified.claims
        subject = claims.get(issuer.consumer_claim)
        evidence = {"issuer": issuer.issuer, "kid": verified.kid}
        if isinstance(subject, int) and not isinstance(subject, bool):
            subject = str(subject)
        if not isinstance(subject, str) or not subject:
            return AuthFailure(
                "jwt-missing-claim",
                BEARER,
                f"token lacks claim {issuer.consumer_claim!r}",
                evidence=evidence,
            )
        groups: frozenset[str] = frozenset()
        if issuer.groups_claim is not None:
            groups = scopes_of(claims, issuer.groups_claim)
        return self._consumer(
            issuer.issuer,
            subject,
            claims,
            groups,
            scopes_of(claims, issuer.scopes_claim),
            issuer.unknown_consumers,
            "jwt",
            evidence,
        )

    async def _from_introspection(self, token: str, exchange: Exchange) -> AuthOutcome:
        if self._introspector is None:
            return None
        try:
            answer = await self._introspector.introspect(token)
        except IntrospectionUnavailable as error:
            log.warning("token introspection failed: %s", error)
            return AuthFailure("introspection-unavailable", BEARER, str(error), status=503)
        if not answer.active:
            return AuthFailure(
                "token-inactive", BEARER, "authorization server says the token is not active"
            )
        binding = check_token_binding(answer.claims, exchange)
        if binding is not None:
            return binding
        settings = self._introspector.settings
        subject = answer.claims.get(settings.consumer_claim) or answer.claims.get("client_id")
        if not isinstance(subject, str) or not subject:
            return AuthFailure(
                "token-missing-subject",
                BEARER,
                f"introspection answer lacks {settings.consumer_claim!r} and client_id",
            )
        issuer = settings.issuer or (
            answer.claims.get("iss") if isinstance(answer.claims.get("iss"), str) else None
        )
        return self._consumer(
            issuer,
            subject,
            answer.claims,
            frozenset(),
            scopes_of(answer.claims, "scope"),
            settings.unknown_consumers,
            "introspection",
            {"issuer": issuer},
        )

    def _consumer(
        self,
        issuer: str | None,
        subject: str,
        claims: dict[str, Any],
        groups: frozenset[str],
        scopes: frozenset[str],
        unknown: str,
        method: str,
        evidence: dict[str, Any],
    ) -> AuthOutcome:
        configured = self._directory.by_token_subject(issuer, subject)
        credential = f"{method}:{issuer or '-'}"
        if configured is not None:
            if configured.disabled:
                return AuthFailure(
                    "consumer-disabled",
                    BEARER,
                    "consumer is disabled",
                    evidence={**evidence, "consumer": configured.id},
                )
            return self._directory.to_consumer(
                configured,
                method=method,
                credential=credential,
                extra_groups=groups,
                scopes=scopes,
                claims=claims,
            )
        if unknown != "accept":
            return AuthFailure(
                "token-unknown-consumer",
                BEARER,
                "no consumer is mapped to this subject",
                evidence={**evidence, "subject": subject[:256]},
            )
        return Consumer(
            id=subject,
            tenant=self._directory.tenant,
            groups=groups,
            scopes=scopes,
            claims=claims,
            credential=credential,
            auth_method=method,
        )
