"""Broken authentication (API2:2023, and API5:2023 for admin routes left open).

Probes, each confirmed against a baseline on a "probe operation" (a GET
that needs credentials, answers 2xx with a valid token and 401/403
without one):

- operations that require credentials answer without any, with the same
  data a logged-in caller gets;
- malformed tokens, tokens with ``alg: none``, stripped or altered
  signatures are accepted;
- the HMAC key of the user's token is in the shipped word list (confirmed
  by a forged token that the API accepts), and with that key an expired
  token is accepted;
- an RSA public key published by the target is accepted as an HMAC key
  (key confusion);
- the token is accepted in the URL query in place of the header.
"""

from __future__ import annotations

import time
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
from stockade.scanner.resources import is_admin_only, own_objects
from stockade.scanner.similarity import same_data

NAME = "authentication"
SUMMARY = "Broken authentication: missing checks, forged and leaked tokens"
CATEGORY = "API2:2023"
DENIED = (401, 403)
FORGED_LIFETIME_SECONDS = 600
EXPIRED_AGO_SECONDS = 3600
"""How long before the scan the forged expired token expired."""

QUERY_TOKEN_NAMES = ("access_token", "token", "jwt", "auth")
NONE_SPELLINGS = ("none", "None", "NONE", "nOnE")
JWKS_PATHS = ("/.well-known/jwks.json", "/jwks.json", "/.well-known/openid-configuration")

MISSING_AUTH_FIX = ("Require and verify credentials on every operation that the API "
                    "documents as protected; deny by default.")
JWT_FIX = ("Verify every token's signature with a pinned algorithm list (never 'none'), "
           "require and enforce exp, and reject malformed tokens.")


async def run(ctx: ScanContext) -> list[Finding]:
    findings = await _missing_authentication(ctx)
    probe = await _find_probe(ctx)
    if probe is None:
        ctx.note("authentication: token probes skipped, no GET operation answers 2xx with "
                 "credentials and 401/403 without")
        return findings
    operation, session, valid, denied = probe
    baseline = [(valid, f"{session.name}'s valid token is accepted"),
                (denied, "without credentials the operation is refused")]
    findings += await _token_probes(ctx, operation, session, valid, baseline)
    return findings


async def _missing_authentication(ctx: ScanContext) -> list[Finding]:
    findings = []
    for operation in ctx.operations:
        if operation.method != "GET" or not operation.requires_auth:
            continue
        session = ctx.session_for(operation)
        if session is None:
            continue
        values = await _path_values(ctx, operation, session)
        if values is None:
            continue
        authorized = await ctx.call(operation, session, path_values=values)
        anonymous = await ctx.call(operation, None, path_values=values)
        if not same_data(authorized, anonymous) or await ctx.is_fallback(anonymous):
            continue
        severity = Severity.HIGH if is_admin_only(operation) else Severity.MEDIUM
        category = "API5:2023" if is_admin_only(operation) else CATEGORY
        findings.append(ctx.finding(
            kind="missing-authentication", check=NAME, severity=severity, category=category,
            title=f"{operation.label} answers without credentials", operation=operation,
            cwe=306, remediation=MISSING_AUTH_FIX,
            detail=(f"The document requires credentials for {operation.label}, but a request "
                    f"without any got {anonymous.status} and the same data as "
                    f"{session.name}."),
            evidence=[(authorized, f"{session.name} is served"),
                      (anonymous, "a request without credentials gets the same data")]))
    return findings


async def _path_values(ctx: ScanContext, operation: Operation,
                       session: Session) -> dict[str, Any] | None:
    """Ids that ``session`` owns for the operation's path parameter, or samples."""
    if not operation.path_params:
        return {}
    owned = await own_objects(ctx, session, operation)
    if owned and len(operation.path_params) == 1:
        return {operation.path_params[0].name: owned[0].object_id}
    return {}


async def _find_probe(ctx: ScanContext) -> tuple[Operation, Session, Reply, Reply] | None:
    if not ctx.users or ctx.users[0].token is None:
        return None
    session = ctx.users[0]
    candidates = [op for op in ctx.operations if op.method == "GET" and op.requires_auth
                  and not op.path_params and not is_admin_only(op)]
    # Prefer the caller's own resource (/users/me): its answer depends on the token.
    candidates.sort(key=lambda op: (not op.path.endswith(("/me", "/self")), op.path))
    for operation in candidates:
        valid = await ctx.call(operation, session)
        if not valid.ok:
            continue
        denied = await ctx.call(operation, None)
        if denied.status in DENIED:
            return operation, session, valid, denied
    return None


async def _token_probes(ctx: ScanContext, operation: Operation, session: Session, valid: Reply,
                        baseline: list[tuple[Reply, str]]) -> list[Finding]:
    findings: list[Finding] = []
    token = str(session.token)
    parsed = jwt_tokens.parse(token)

    async def accepted(candidate: str) -> Reply | None:
        ctx.redactor.add_secrets([candidate])
        reply = await ctx.call(operation, session.with_token(candidate))
        return reply if same_data(valid, reply) else None

    def add(kind: str, title: str, severity: Severity, detail: str, reply: Reply,
            note: str, fix: str = JWT_FIX, cwe: int = 287) -> None:
        findings.append(ctx.finding(
            kind=kind, check=NAME, title=title, severity=severity, category=CATEGORY,
            operation=operation, cwe=cwe, detail=detail, remediation=fix,
            evidence=[*baseline, (reply, note)]))

    reply = await accepted("stockade.invalid.token")
    if reply is not None:
        add("malformed-token-accepted", "A malformed token is accepted", Severity.CRITICAL,
            f"{operation.label} accepted the bearer token 'stockade.invalid.token'.", reply,
            "a malformed token is accepted")
        return findings  # every forged token would be accepted as well
    if parsed is not None:
        findings += await _jwt_probes(ctx, operation, session, parsed, accepted, add)
    for name in QUERY_TOKEN_NAMES:
        in_query = await ctx.call(operation, None, query={name: token})
        if same_data(valid, in_query):
            add("token-in-query", f"Token accepted in the '{name}' query parameter",
                Severity.MEDIUM,
                f"{operation.label} accepted {session.name}'s token in ?{name}= without an "
                "Authorization header; URLs end up in access logs, proxies, browser history "
                "and Referer headers.", in_query, "the token in the URL query is accepted",
                fix="Accept tokens only in the Authorization header; ignore them in the URL.",
                cwe=598)
            break
    return findings


async def _jwt_probes(ctx: ScanContext, operation: Operation, session: Session,
                      parsed: jwt_tokens.ParsedToken, accepted: Any, add: Any) -> list[Finding]:
    token = str(session.token)
    for spelling in NONE_SPELLINGS:
        reply = await accepted(jwt_tokens.unsigned(parsed.claims, spelling))
        if reply is not None:
            add("jwt-alg-none", "Unsigned JWT with alg none is accepted", Severity.CRITICAL,
                f"{operation.label} accepted a token whose header says alg '{spelling}' and "
                "that has no signature, so anyone can claim any identity.", reply,
                f"an unsigned token (alg {spelling}) is accepted")
            break
    reply = await accepted(jwt_tokens.strip_signature(token))
    if reply is not None:
        add("jwt-signature-not-verified", "JWT with its signature stripped is accepted",
            Severity.CRITICAL, f"{operation.label} accepted {session.name}'s token with "
            "the signature removed.", reply, "the token without a signature is accepted")
    else:
        reply = await accepted(jwt_tokens.tamper_signature(token))
        if reply is not None:
            add("jwt-signature-not-verified", "JWT with an altered signature is accepted",
                Severity.CRITICAL, f"{operation.label} accepted {session.name}'s token with "
                "one signature byte changed.", reply, "a token with a wrong signature is "
                "accepted")
    await _weak_secret(ctx, operation, session, parsed, accepted, add)
    await _key_confusion(ctx, parsed, accepted, add)
    return []


def _forged_claims(parsed: jwt_tokens.ParsedToken, issued: float, expires: float) -> dict[str, Any]:
    claims = dict(parsed.claims)
    claims["iat"] = int(issued)
    if "exp" in claims or expires < issued:
        claims["exp"] = int(expires)
    return claims


async def _weak_secret(ctx: ScanContext, operation: Operation, session: Session,
                       parsed: jwt_tokens.ParsedToken, accepted: Any, add: Any) -> None:
    secret = jwt_tokens.crack_hmac(parsed, jwt_tokens.load_wordlist())
    if secret is None:
        return
    alg = parsed.algorithm.upper()
    now = time.time()
    forged = jwt_tokens.sign_hmac(_forged_claims(parsed, now, now + FORGED_LIFETIME_SECONDS),
                                  secret.encode(), alg)
    reply = await accepted(forged)
    if reply is None:
        return
    login = session.login_path or operation.path
    add("jwt-weak-secret", "JWT HMAC key is a dictionary word", Severity.CRITICAL,
        f"The {alg} key that signs {session.name}'s token is in Stockade's weak-secret list "
        f"(found: {jwt_tokens.mask_secret(secret)}). A token the scan signed with it was "
        f"accepted by {operation.label}; tokens are issued by {login}.", reply,
        "a token the scan forged with the cracked key is accepted",
        fix="Sign tokens with a random key of at least 256 bits kept in a secret store, "
            "and rotate it now: every issued token can be forged.", cwe=521)
    expired = jwt_tokens.sign_hmac(
        _forged_claims(parsed, now - EXPIRED_AGO_SECONDS - FORGED_LIFETIME_SECONDS,
                       now - EXPIRED_AGO_SECONDS), secret.encode(), alg)
    reply = await accepted(expired)
    if reply is not None:
        add("jwt-expired-accepted", "Expired JWT is accepted", Severity.HIGH,
            f"{operation.label} accepted a correctly signed token whose exp lies "
            f"{EXPIRED_AGO_SECONDS} s in the past.", reply, "an expired token is accepted",
            cwe=613)


async def _key_confusion(ctx: ScanContext, parsed: jwt_tokens.ParsedToken, accepted: Any,
                         add: Any) -> None:
    if not parsed.algorithm.upper().startswith(("RS", "PS")):
        return
    for pem in await _published_rsa_keys(ctx):
        now = time.time()
        claims = _forged_claims(parsed, now, now + FORGED_LIFETIME_SECONDS)
        reply = await accepted(jwt_tokens.sign_hmac(claims, pem, "HS256",
                                                    {"kid": parsed.header.get("kid")}))
        if reply is not None:
            add("jwt-key-confusion", "RSA public key accepted as an HMAC key", Severity.CRITICAL,
                "A token signed with HS256 using the target's published RSA public key as the "
                "HMAC key was accepted, so anyone can forge tokens.", reply,
                "an HS256 token keyed with the public key is accepted", cwe=347)
            return


async def _published_rsa_keys(ctx: ScanContext) -> list[bytes]:
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
        for jwk in (document or {}).get("keys", []) if isinstance(document, dict) else []:
            if isinstance(jwk, dict) and jwk.get("kty") == "RSA":
                try:
                    public = RSAAlgorithm.from_jwk(jwk)
                except (ValueError, KeyError, TypeError):
                    continue
                keys.append(public.public_bytes(  # type: ignore[union-attr]
                    serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
        if keys:
            break
    return keys
