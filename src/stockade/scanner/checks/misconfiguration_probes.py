"""The probes of the misconfiguration check, one function each."""

from __future__ import annotations

import asyncio
import secrets
from typing import Any

from stockade.events.model import Severity
from stockade.scanner.client import Reply
from stockade.scanner.context import ScanContext
from stockade.scanner.findings import Finding
from stockade.scanner.openapi import Operation
from stockade.scanner.resources import split
from stockade.scanner.similarity import body_similarity

CATEGORY = "API8:2023"
CHECK = "misconfiguration"

REQUIRED_HEADERS = {
    "x-content-type-options": "X-Content-Type-Options: nosniff",
    "cache-control": "Cache-Control: no-store",
    "content-security-policy": "Content-Security-Policy: default-src 'none'; "
                               "frame-ancestors 'none'",
    "x-frame-options": "X-Frame-Options: DENY",
}
HSTS = "strict-transport-security"

DISCLOSURE_HEADERS = ("server", "x-powered-by", "x-aspnet-version", "x-aspnetmvc-version",
                      "x-generator", "x-runtime", "x-version")

STACK_TRACE_SIGNATURES = (
    "traceback (most recent call last)", "exception in thread", "at java.", "at org.",
    "at system.", "stack trace:", "stacktrace", "system.nullreferenceexception",
    "in /var/www", "node_modules/", ".py\", line ", "valueerror:", "typeerror:",
    "keyerror:", "nullpointerexception", "unhandled exception", "werkzeug debugger",
)
"""Lower-case fragments of stack traces and exception names (Python, Java, .NET, PHP, Node)."""

DEBUG_PATHS = (
    "/debug", "/debug/config", "/debug/vars", "/debug/pprof/", "/__debug__", "/actuator",
    "/actuator/env", "/actuator/configprops", "/actuator/heapdump", "/actuator/mappings",
    "/env", "/config", "/configuration", "/.env", "/phpinfo.php", "/server-status",
    "/console", "/admin/console", "/trace", "/_debug",
)
"""Debug and management paths probed under the root and under each API base path."""

UNSUPPORTED_TRIED = ("PATCH", "PUT", "POST")
"""Undeclared methods tried on each path without parameters. DELETE is left out: on a route
that does implement it without documenting it, it could delete a whole collection."""


def _finding(ctx: ScanContext, kind: str, title: str, severity: Severity, detail: str,
             fix: str, evidence: list[tuple[Reply, str]], method: str = "*", path: str = "/",
             cwe: int | None = None, operation: Operation | None = None) -> Finding:
    return ctx.finding(kind=kind, check=CHECK, title=title, severity=severity, category=CATEGORY,
                       operation=operation, detail=detail, remediation=fix, evidence=evidence,
                       method=method, path=path, cwe=cwe)


async def cors(ctx: ScanContext, operation: Operation) -> list[Finding]:
    session = ctx.session_for(operation) if operation.requires_auth else None
    replies = []
    for _ in range(2):
        origin = f"https://{secrets.token_hex(4)}.stockade-scan.invalid"
        reply = await ctx.call(operation, session, headers={"Origin": origin})
        allowed = reply.headers.get("access-control-allow-origin", "")
        credentials = reply.headers.get("access-control-allow-credentials", "").lower()
        if allowed != origin or credentials != "true":
            return []
        replies.append(reply)
    return [_finding(
        ctx, "cors-any-origin", "CORS reflects any origin with credentials", Severity.HIGH,
        "Two made-up origins were each echoed in Access-Control-Allow-Origin together with "
        "Access-Control-Allow-Credentials: true, so any web page can read responses with the "
        "visitor's credentials.",
        "Allow only a fixed list of trusted origins, and send no CORS headers for others.",
        [(replies[0], "first made-up origin reflected"),
         (replies[1], "second made-up origin reflected")], cwe=942)]


def security_headers(ctx: ScanContext, samples: list[tuple[Operation, Reply]]) -> list[Finding]:
    expected = dict(REQUIRED_HEADERS)
    if ctx.client.target.scheme == "https":
        expected[HSTS] = "Strict-Transport-Security: max-age=31536000"
    missing = [name for name in expected
               if all(name not in reply.headers for _, reply in samples)]
    if not missing:
        return []
    return [_finding(
        ctx, "missing-security-headers", "Security headers missing", Severity.LOW,
        f"Responses lack {', '.join(missing)}.",
        "Send " + "; ".join(expected[name] for name in missing) + " on every response.",
        [(reply, f"{operation.label} without them") for operation, reply in samples],
        cwe=693)]


def version_headers(ctx: ScanContext, samples: list[tuple[Operation, Reply]]) -> list[Finding]:
    disclosed = sorted({f"{name}: {reply.headers[name]}" for _, reply in samples
                    for name in DISCLOSURE_HEADERS if reply.headers.get(name)})
    if not disclosed:
        return []
    return [_finding(
        ctx, "version-disclosure", "Response headers name the software stack", Severity.LOW,
        f"Responses carry {'; '.join(disclosed)}, which tells attackers what to look up.",
        "Remove Server, X-Powered-By and similar headers, or reduce them to a generic value.",
        [(samples[0][1], "the disclosing headers")], cwe=200)]


def _stack_trace(reply: Reply) -> str | None:
    if reply.status < 400:
        return None
    text = reply.text.lower()
    return next((sig for sig in STACK_TRACE_SIGNATURES if sig in text), None)


async def verbose_errors(ctx: ScanContext) -> list[Finding]:
    for operation in ctx.operations:
        if not ctx.allows(operation):
            continue
        session = ctx.session_for(operation) if operation.requires_auth else None
        request: dict[str, Any] = {}
        integer_params = [p.name for p in operation.path_params
                          if p.schema.get("type") in ("integer", "number")]
        if integer_params and operation.method == "GET":
            request = {"path_values": {name: "stockade-not-a-number" for name in integer_params}}
        elif operation.body_schema is not None and operation.method in ("POST", "PUT", "PATCH"):
            request = {"content": b'{"stockade": ', "headers": {"Content-Type":
                                                                   "application/json"},
                       "body": None}
        else:
            continue
        first = await ctx.call(operation, session, **request)
        signature = _stack_trace(first)
        if signature is None:
            continue
        again = await ctx.call(operation, session, **request)
        if _stack_trace(again) != signature:
            continue
        return [_finding(
            ctx, "verbose-errors", "Errors reveal stack traces", Severity.MEDIUM,
            f"Malformed input to {operation.label} returned {first.status} with exception "
            f"details ('{signature}'), twice.",
            "Respond to bad input with a 4xx and a plain message, and unexpected errors with a "
            "generic 500; log the details on the server only.",
            [(first, "malformed input gets a stack trace"), (again, "and again")],
            method=operation.method, path=operation.path, cwe=209, operation=operation)]
    return []


def base_paths(ctx: ScanContext) -> list[str]:
    """"" and each distinct leading API prefix of the documented paths (/api/v2)."""
    prefixes = {""}
    for path in ctx.api.paths():
        segments = split(path)
        for length in (1, 2):
            if len(segments) > length and not any(s.startswith("{") for s in segments[:length]):
                prefixes.add("/" + "/".join(segments[:length]))
    return sorted(prefixes)


async def random_control(ctx: ScanContext, prefix: str) -> Reply:
    """Request a path that cannot exist, to tell catch-all servers apart."""
    return await ctx.send("GET", f"{prefix}/stockade-{secrets.token_hex(6)}", None)


def differs_from(reply: Reply, control: Reply) -> bool:
    return reply.ok and (not control.ok or body_similarity(reply, control) < 0.5)


async def debug_endpoints(ctx: ScanContext) -> list[Finding]:
    documented = {operation.url_path for operation in ctx.api.operations}
    prefixes = base_paths(ctx)
    controls = await asyncio.gather(*(random_control(ctx, prefix) for prefix in prefixes))
    probes = [_debug_probe(ctx, prefix + suffix, control)
              for prefix, control in zip(prefixes, controls, strict=True)
              for suffix in DEBUG_PATHS if prefix + suffix not in documented]
    found = await asyncio.gather(*probes)
    return [finding for finding in found if finding is not None]


async def _debug_probe(ctx: ScanContext, path: str, control: Reply) -> Finding | None:
    reply = await ctx.send("GET", path, None)
    if not differs_from(reply, control) or not reply.body.strip():
        return None
    again = await ctx.send("GET", path, None)
    if not again.ok:
        return None
    return _finding(
        ctx, "debug-endpoint", f"Debug endpoint {path} is reachable", Severity.HIGH,
        f"GET {path} is not in the document and returned {reply.status} without "
        "credentials, unlike a random path.",
        "Remove debug and management endpoints from production builds, or bind them to an "
        "internal interface with authentication.",
        [(control, "a random path, for comparison"), (reply, "the debug endpoint responds")],
        method="GET", path=path, cwe=489)


async def unsupported_methods(ctx: ScanContext) -> list[Finding]:
    findings = []
    for path in ctx.api.paths():
        declared = {op.method for op in ctx.api.operations if op.path == path}
        operation = next(op for op in ctx.api.operations if op.path == path)
        if operation.path_params or not ctx.settings.selects(operation):
            continue
        for method in UNSUPPORTED_TRIED:
            if method in declared or not ctx.settings.method_allowed(method):
                continue
            session = ctx.session_for(operation)
            first = await ctx.send(method, operation.url_path, session)
            if not first.ok or await ctx.is_fallback(first, method):
                continue
            again = await ctx.send(method, operation.url_path, session)
            if again.ok:
                findings.append(_finding(
                    ctx, "unsupported-method-200", f"{method} {path} returns {first.status}",
                    Severity.LOW,
                    f"The document declares {', '.join(sorted(declared))} for {path}, but "
                    f"{method} returned {first.status}, twice.",
                    "Respond to methods a route does not support with 405 and an Allow header.",
                    [(first, f"undeclared {method} succeeds"), (again, "and again")],
                    method=method, path=path, cwe=650, operation=operation))
                break
    return findings
