"""SSRF (API7:2023): URL parameters that make the target call the scanner's canary.

Each URL-like parameter (format uri, or a name such as url, callback or
webhook) gets a canary URL with a fresh token. A finding needs two
requests with two different tokens, each followed by a canary hit
carrying its token. The canary listens on 127.0.0.1, so this check only
works when the target runs on the scanner's machine.
"""

from __future__ import annotations

from typing import Any

from stockade.events.model import Severity
from stockade.scanner.client import Reply
from stockade.scanner.context import ScanContext
from stockade.scanner.findings import Finding
from stockade.scanner.points import InjectionPoint, points_of
from stockade.scanner.values import is_url_name

NAME = "ssrf"
SUMMARY = "Server-side request forgery: the target fetches URLs the client names"
CATEGORY = "API7:2023"
CWE = 918
REMEDIATION = ("Resolve the host once, allow only public addresses (or an allow-list of "
               "origins), connect to the vetted address, and follow no redirects.")
CANARY_WAIT_SECONDS = 1.0
"""How long the scan waits for the target's call after a 2xx or 5xx response (late fetches)."""

REJECTED_WAIT_SECONDS = 0.2
"""The shorter wait after a 4xx response: a target that rejects the URL rarely fetches it later."""


async def run(ctx: ScanContext) -> list[Finding]:
    if ctx.canary is None:
        ctx.note("ssrf: skipped, the canary listener is not running")
        return []
    if not ctx.client.target.host.startswith("127.") and ctx.client.target.host not in (
            "localhost", "::1"):
        ctx.note("ssrf: the canary listens on 127.0.0.1, so a target on another machine "
                 "cannot reach it; a clean result here proves nothing")
    findings = []
    for operation in ctx.operations:
        if not ctx.allows(operation):
            continue
        for point in points_of(ctx, operation, {}):
            if point.kind == "string" and (point.is_url or is_url_name(point.name)):
                finding = await _probe(ctx, point)
                if finding is not None:
                    findings.append(finding)
    return findings


async def _hit(ctx: ScanContext, point: InjectionPoint) -> tuple[Reply, Any] | None:
    canary = ctx.canary
    if canary is None:
        return None
    token = canary.new_token()
    reply = await point.send(ctx, canary.url(token))
    wait = REJECTED_WAIT_SECONDS if 400 <= reply.status < 500 else CANARY_WAIT_SECONDS
    hits = await canary.wait_for(token, wait)
    return (reply, hits[0]) if hits else None


async def _probe(ctx: ScanContext, point: InjectionPoint) -> Finding | None:
    first = await _hit(ctx, point)
    if first is None:
        return None
    second = await _hit(ctx, point)
    if second is None:
        return None
    (reply, hit), (reply_2, hit_2) = first, second
    return ctx.finding(
        kind="ssrf", check=NAME, title=f"SSRF through {point.label}", severity=Severity.HIGH,
        category=CATEGORY, operation=point.operation, cwe=CWE, remediation=REMEDIATION,
        detail=(f"The target sent {hit.method} {hit.path} and {hit_2.method} {hit_2.path} to "
                f"the scanner's canary on 127.0.0.1 after {point.label} named it: it fetches "
                "loopback URLs a client chooses."),
        evidence=[(reply, "first canary URL; the canary was called"),
                  (reply_2, "second canary URL; the canary was called again")])
