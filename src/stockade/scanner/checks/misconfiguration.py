"""Security misconfiguration (API8:2023).

- CORS: an ``Origin`` the scan makes up is echoed in
  ``Access-Control-Allow-Origin`` with ``Access-Control-Allow-Credentials:
  true``, for two different made-up origins.
- Security headers: headers an API response should carry are missing on
  two different responses (HSTS only on https targets, because browsers
  ignore it over plain HTTP).
- Version disclosure: ``Server``, ``X-Powered-By`` and similar headers.
- Verbose errors: malformed input (a non-numeric id, invalid JSON) gets a
  stack trace or exception text, twice.
- Debug endpoints: well-known debug and actuator paths return 2xx with a
  body unlike the response for a random path.
- Unsupported methods: a method the document does not declare for a path
  returns 2xx, twice.
"""

from __future__ import annotations

from stockade.scanner.checks import misconfiguration_probes as probes
from stockade.scanner.client import Reply
from stockade.scanner.context import ScanContext
from stockade.scanner.findings import Finding
from stockade.scanner.openapi import Operation

NAME = "misconfiguration"
SUMMARY = "Misconfiguration: CORS, headers, verbose errors, debug endpoints, methods"
CATEGORY = "API8:2023"


async def run(ctx: ScanContext) -> list[Finding]:
    samples = await _sample_replies(ctx)
    findings: list[Finding] = []
    if samples:
        for operation, _ in samples:
            found = await probes.cors(ctx, operation)
            if found:
                findings += found
                break
        findings += probes.security_headers(ctx, samples)
        findings += probes.version_headers(ctx, samples)
    findings += await probes.verbose_errors(ctx)
    findings += await probes.debug_endpoints(ctx)
    findings += await probes.unsupported_methods(ctx)
    return findings


async def _sample_replies(ctx: ScanContext) -> list[tuple[Operation, Reply]]:
    """Two 2xx GET responses: a public operation's and an authenticated one's when there are."""
    found: list[tuple[Operation, Reply]] = []
    for wanted_auth in (False, True):
        for operation in ctx.operations:
            if operation.method != "GET" or operation.path_params:
                continue
            if operation.requires_auth != wanted_auth or not ctx.allows(operation):
                continue
            session = ctx.session_for(operation) if operation.requires_auth else None
            if operation.requires_auth and session is None:
                continue
            reply = await ctx.call(operation, session)
            if reply.ok:
                found.append((operation, reply))
                break
    return found

