"""Broken authentication (API2:2023, and API5:2023 for admin routes left open).

- Operations the document protects respond to a request without credentials
  with the same data a logged-in caller gets.
- Forged tokens are accepted on a "probe operation", a GET that returns
  2xx with the user's token and 401/403 without one. The forgeries are a
  malformed token and those of ``jwt_probes``: alg none, stripped or
  altered signatures, a weak HMAC key found with the shipped word list,
  an expired token signed with that key, and key confusion.
- The token is accepted in the URL query in place of the header.

A forged token counts as accepted only when the response shows the same data
as the valid token's.
"""

from __future__ import annotations

import asyncio

from stockade.events.model import Severity
from stockade.scanner import jwt_tokens
from stockade.scanner.auth import Session
from stockade.scanner.checks.jwt_probes import TokenProbe, jwt_probes
from stockade.scanner.client import Reply
from stockade.scanner.context import ScanContext
from stockade.scanner.findings import Finding
from stockade.scanner.openapi import Operation
from stockade.scanner.resources import is_admin_only, own_path_values
from stockade.scanner.similarity import same_data

NAME = "authentication"
SUMMARY = "Broken authentication: missing checks, forged and leaked tokens"
CATEGORY = "API2:2023"
DENIED = (401, 403)
QUERY_TOKEN_NAMES = ("access_token", "token", "jwt", "auth")

MISSING_AUTH_FIX = ("Require and verify credentials on every operation that the API "
                    "documents as protected; deny by default.")


async def run(ctx: ScanContext) -> list[Finding]:
    findings = await _missing_authentication(ctx)
    probe = await _find_probe(ctx)
    if probe is None:
        ctx.note("authentication: token probes skipped, no GET operation returns 2xx with "
                 "credentials and 401/403 without")
        return findings
    operation, session, valid, denied = probe
    baseline = [(valid, f"{session.name}'s valid token is accepted"),
                (denied, "without credentials the operation is refused")]
    findings += await _token_probes(ctx, operation, session, valid, baseline)
    return findings


async def _missing_authentication(ctx: ScanContext) -> list[Finding]:
    operations = [op for op in ctx.operations if op.method == "GET" and op.requires_auth
                  and ctx.session_for(op) is not None]
    found = await asyncio.gather(*(_check_anonymous(ctx, op) for op in operations))
    return [finding for finding in found if finding is not None]


async def _check_anonymous(ctx: ScanContext, operation: Operation) -> Finding | None:
    session = ctx.session_for(operation)
    if session is None:
        return None
    values = await own_path_values(ctx, session, operation)
    authorized = await ctx.call(operation, session, path_values=values)
    anonymous = await ctx.call(operation, None, path_values=values)
    if not same_data(authorized, anonymous) or await ctx.is_fallback(anonymous):
        return None
    admin_only = is_admin_only(operation)
    return ctx.finding(
        kind="missing-authentication", check=NAME, operation=operation, cwe=306,
        severity=Severity.HIGH if admin_only else Severity.MEDIUM,
        category="API5:2023" if admin_only else CATEGORY,
        title=f"{operation.label} responds without credentials", remediation=MISSING_AUTH_FIX,
        detail=(f"The document requires credentials for {operation.label}, but a request "
                f"without any got {anonymous.status} and the same data as {session.name}."),
        evidence=[(authorized, f"{session.name} is served"),
                  (anonymous, "a request without credentials gets the same data")])


async def _find_probe(ctx: ScanContext) -> tuple[Operation, Session, Reply, Reply] | None:
    if not ctx.users or ctx.users[0].token is None:
        return None
    session = ctx.users[0]
    candidates = [op for op in ctx.operations if op.method == "GET" and op.requires_auth
                  and not op.path_params and not is_admin_only(op)]
    # Prefer the caller's own resource (/users/me): its response depends on the token.
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
    probe = TokenProbe(ctx, operation, session, valid, baseline)
    token = str(session.token)
    reply = await probe.accepted("stockade.invalid.token")
    if reply is not None:
        probe.add("malformed-token-accepted", "A malformed token is accepted", Severity.CRITICAL,
                  f"{operation.label} accepted the bearer token 'stockade.invalid.token'.",
                  reply, "a malformed token is accepted")
        return probe.findings  # every forged token would be accepted as well
    parsed = jwt_tokens.parse(token)
    if parsed is not None:
        await jwt_probes(probe, parsed)
    for name in QUERY_TOKEN_NAMES:
        in_query = await ctx.call(operation, None, query={name: token})
        if same_data(valid, in_query):
            probe.add("token-in-query", f"Token accepted in the '{name}' query parameter",
                      Severity.MEDIUM,
                      f"{operation.label} accepted {session.name}'s token in ?{name}= without "
                      "an Authorization header; URLs end up in access logs, proxies, browser "
                      "history and Referer headers.", in_query,
                      "the token in the URL query is accepted",
                      fix="Accept tokens only in the Authorization header; ignore them in the "
                          "URL.", cwe=598)
            break
    return probe.findings
