"""Forged-token probes of the authentication check: alg none, signatures, weak keys.

Each probe sends a forged token to the probe operation and counts it as
accepted only when the response shows the same data as the valid token's.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives import serialization
from jwt.algorithms import RSAAlgorithm

from stockade.events.model import Severity
from stockade.scanner import jwt_tokens
from stockade.scanner.auth import Session
from stockade.scanner.client import Reply
from stockade.scanner.context import ScanContext
from stockade.scanner.findings import Finding
from stockade.scanner.openapi import Operation
from stockade.scanner.similarity import same_data

CHECK = "authentication"
CATEGORY = "API2:2023"
FORGED_LIFETIME_SECONDS = 600
EXPIRED_AGO_SECONDS = 3600
"""How long before the scan the forged expired token expired."""

NONE_SPELLINGS = ("none", "None", "NONE", "nOnE")
JWKS_PATHS = ("/.well-known/jwks.json", "/jwks.json", "/.well-known/openid-configuration")
JWT_FIX = ("Verify every token's signature with a pinned algorithm list (never 'none'), "
           "require and enforce exp, and reject malformed tokens.")


@dataclass(slots=True)
class TokenProbe:
    """Sends forged tokens to one operation and collects the findings they confirm."""

    ctx: ScanContext
    operation: Operation
    session: Session
    valid: Reply
    baseline: list[tuple[Reply, str]]
    findings: list[Finding] = field(default_factory=list)

    async def accepted(self, candidate: str) -> Reply | None:
        """Send ``candidate``; return the response if it shows the valid token's data."""
        self.ctx.redactor.add_secrets([candidate])
        reply = await self.ctx.call(self.operation, self.session.with_token(candidate))
        return reply if same_data(self.valid, reply) else None

    def add(self, kind: str, title: str, severity: Severity, detail: str, reply: Reply,
            note: str, fix: str = JWT_FIX, cwe: int = 287) -> None:
        self.findings.append(self.ctx.finding(
            kind=kind, check=CHECK, title=title, severity=severity, category=CATEGORY,
            operation=self.operation, cwe=cwe, detail=detail, remediation=fix,
            evidence=[*self.baseline, (reply, note)]))


async def jwt_probes(probe: TokenProbe, parsed: jwt_tokens.ParsedToken) -> None:
    await _alg_none(probe, parsed)
    await _signature(probe)
    await _weak_secret(probe, parsed)
    await _key_confusion(probe, parsed)


async def _alg_none(probe: TokenProbe, parsed: jwt_tokens.ParsedToken) -> None:
    for spelling in NONE_SPELLINGS:
        reply = await probe.accepted(jwt_tokens.unsigned(parsed.claims, spelling))
        if reply is not None:
            probe.add("jwt-alg-none", "Unsigned JWT with alg none is accepted",
                      Severity.CRITICAL,
                      f"{probe.operation.label} accepted a token whose header says alg "
                      f"'{spelling}' and that has no signature, so anyone can claim any "
                      "identity.", reply, f"an unsigned token (alg {spelling}) is accepted")
            return


async def _signature(probe: TokenProbe) -> None:
    token = str(probe.session.token)
    label, name = probe.operation.label, probe.session.name
    reply = await probe.accepted(jwt_tokens.strip_signature(token))
    if reply is not None:
        probe.add("jwt-signature-not-verified", "JWT with its signature stripped is accepted",
                  Severity.CRITICAL, f"{label} accepted {name}'s token with the signature "
                  "removed.", reply, "the token without a signature is accepted")
        return
    reply = await probe.accepted(jwt_tokens.tamper_signature(token))
    if reply is not None:
        probe.add("jwt-signature-not-verified", "JWT with an altered signature is accepted",
                  Severity.CRITICAL, f"{label} accepted {name}'s token with one signature "
                  "byte changed.", reply, "a token with a wrong signature is accepted")


def _forged_claims(parsed: jwt_tokens.ParsedToken, issued: float, expires: float) -> dict[str, Any]:
    claims = dict(parsed.claims)
    claims["iat"] = int(issued)
    if "exp" in claims or expires < issued:
        claims["exp"] = int(expires)
    return claims


async def _weak_secret(probe: TokenProbe, parsed: jwt_tokens.ParsedToken) -> None:
    secret = jwt_tokens.crack_hmac(parsed, jwt_tokens.load_wordlist())
    if secret is None:
        return
    alg = parsed.algorithm.upper()
    now = time.time()
    forged = jwt_tokens.sign_hmac(_forged_claims(parsed, now, now + FORGED_LIFETIME_SECONDS),
                                  secret.encode(), alg)
    reply = await probe.accepted(forged)
    if reply is None:
        return
    issuer = probe.session.login_path or probe.operation.path
    probe.add("jwt-weak-secret", "JWT HMAC key is a dictionary word", Severity.CRITICAL,
              f"The {alg} key that signs {probe.session.name}'s token is in Stockade's "
              f"weak-secret list (found: {jwt_tokens.mask_secret(secret)}). A token the scan "
              f"signed with it was accepted by {probe.operation.label}; tokens are issued by "
              f"{issuer}.", reply, "a token the scan forged with the cracked key is accepted",
              fix="Sign tokens with a random key of at least 256 bits kept in a secret store, "
                  "and rotate it now: every issued token can be forged.", cwe=521)
    expired = jwt_tokens.sign_hmac(
        _forged_claims(parsed, now - EXPIRED_AGO_SECONDS - FORGED_LIFETIME_SECONDS,
                       now - EXPIRED_AGO_SECONDS), secret.encode(), alg)
    reply = await probe.accepted(expired)
    if reply is not None:
        probe.add("jwt-expired-accepted", "Expired JWT is accepted", Severity.HIGH,
                  f"{probe.operation.label} accepted a correctly signed token whose exp lies "
                  f"{EXPIRED_AGO_SECONDS} s in the past.", reply, "an expired token is accepted",
                  cwe=613)


async def _key_confusion(probe: TokenProbe, parsed: jwt_tokens.ParsedToken) -> None:
    if not parsed.algorithm.upper().startswith(("RS", "PS")):
        return
    kid = parsed.header.get("kid")
    header = {"kid": kid} if isinstance(kid, str) else None
    for pem in await _published_rsa_keys(probe.ctx):
        now = time.time()
        claims = _forged_claims(parsed, now, now + FORGED_LIFETIME_SECONDS)
        reply = await probe.accepted(jwt_tokens.sign_hmac(claims, pem, "HS256", header))
        if reply is not None:
            probe.add("jwt-key-confusion", "RSA public key accepted as an HMAC key",
                      Severity.CRITICAL,
                      "A token signed with HS256 using the target's published RSA public key "
                      "as the HMAC key was accepted, so anyone can forge tokens.", reply,
                      "an HS256 token keyed with the public key is accepted", cwe=347)
            return


async def _published_rsa_keys(ctx: ScanContext) -> list[bytes]:
    """PEM public keys of the RSA JWKs the target publishes at a well-known path."""
    keys: list[bytes] = []
    for path in JWKS_PATHS:
        reply = await ctx.send("GET", path, None)
        document = reply.json() if reply.ok else None
        if isinstance(document, dict) and isinstance(document.get("jwks_uri"), str):
            try:
                reply = await ctx.send("GET", document["jwks_uri"], None)
            except ValueError:
                continue  # a JWKS on another origin is out of the scan's reach
            document = reply.json() if reply.ok else None
        jwks = document.get("keys") if isinstance(document, dict) else None
        for jwk in jwks if isinstance(jwks, list) else []:
            if isinstance(jwk, dict) and jwk.get("kty") == "RSA":
                try:
                    public = RSAAlgorithm.from_jwk(jwk)
                except (ValueError, KeyError, TypeError):
                    continue
                keys.append(public.public_bytes(  # type: ignore[union-attr]
                    serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
        if keys:
            return keys
    return keys
