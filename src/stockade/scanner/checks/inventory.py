"""Improper inventory management (API9:2023).

- Deprecated operations that still serve: a GET the document marks
  ``deprecated`` returns 2xx.
- Older API versions: each documented path with a version segment (v2)
  is tried with lower versions (v1, v0) when the document lacks them.
- Shadow endpoints: common hidden prefixes (internal, private, legacy, ...)
  are put in front of each documented collection and tried, and so are
  paths that APIs often serve (metrics, GraphQL, API explorers, ...) under
  the root and each API prefix.

An undocumented path counts only when it returns 2xx with a body unlike
the response to a random path under the same prefix, twice.
"""

from __future__ import annotations

import asyncio

from stockade.events.model import Severity
from stockade.scanner.checks.misconfiguration_probes import (
    base_paths,
    differs_from,
    random_control,
)
from stockade.scanner.client import Reply
from stockade.scanner.context import ScanContext
from stockade.scanner.findings import Finding
from stockade.scanner.resources import is_param, own_path_values, split

NAME = "inventory"
SUMMARY = "Improper inventory: deprecated, old-version and undocumented endpoints"
CATEGORY = "API9:2023"
SHADOW_PREFIXES = ("internal", "private", "hidden", "dev", "test", "beta", "legacy", "old",
                   "backup", "v0", "staff")
"""Segments put in front of a documented collection to look for undocumented copies."""

COMMON_PATHS = ("/metrics", "/prometheus", "/status", "/info", "/version", "/graphql",
                "/graphiql", "/admin", "/api/admin", "/api/internal", "/backup", "/.git/config",
                "/server-info")
"""Undocumented paths that APIs often serve, probed under the root and each API prefix."""

DOCUMENTATION_PATHS = ("/swagger.json", "/swagger/v1/swagger.json", "/v2/api-docs",
                       "/v3/api-docs", "/api-docs", "/openapi.json", "/docs", "/redoc",
                       "/swagger-ui.html")
"""API description and explorer pages; reported with low severity when undocumented."""

MAX_SHADOW_PROBES = 500
"""Requests the shadow-endpoint search sends at most, to bound the scan."""


async def run(ctx: ScanContext) -> list[Finding]:
    findings = await _deprecated(ctx)
    findings += await _undocumented(ctx)
    return findings


async def _deprecated(ctx: ScanContext) -> list[Finding]:
    findings = []
    for operation in ctx.operations:
        if not operation.deprecated or operation.method != "GET" or not ctx.allows(operation):
            continue
        session = ctx.session_for(operation) if operation.requires_auth else None
        values = await own_path_values(ctx, session, operation)
        reply = await ctx.call(operation, session, path_values=values)
        if not reply.ok or await ctx.is_fallback(reply):
            continue
        findings.append(ctx.finding(
            kind="deprecated-operation-served", check=NAME, severity=Severity.MEDIUM,
            category=CATEGORY, operation=operation, cwe=1059,
            title=f"Deprecated {operation.label} still serves",
            detail=(f"The document marks {operation.label} deprecated, but it returned "
                    f"{reply.status} with data. Old versions tend to miss the checks newer "
                    "ones have."),
            remediation="Retire deprecated operations on a published date (respond with 410) "
                        "and track every version that is still deployed.",
            evidence=[(reply, "the deprecated operation responds")]))
    return findings


def _candidates(ctx: ScanContext) -> list[str]:
    """Undocumented paths worth trying: lower versions and shadow prefixes."""
    documented = {operation.url_path for operation in ctx.api.operations}
    found: dict[str, None] = {}
    for base in base_paths(ctx):
        for common in COMMON_PATHS + DOCUMENTATION_PATHS:
            found[base + common] = None
    collections: dict[str, None] = {}
    for operation in ctx.api.operations:
        if operation.method != "GET" or not ctx.settings.selects(operation):
            continue
        segments = split(operation.url_path)
        for index, segment in enumerate(segments):
            if len(segment) > 1 and segment[0] == "v" and segment[1:].isdigit():
                for lower in range(int(segment[1:]) - 1, -1, -1):
                    found[_join([*segments[:index], f"v{lower}", *segments[index + 1:]])] = None
        # Every parameter-free ancestor is a collection: /api/v2/users for /api/v2/users/{id}.
        for length in range(1, len(segments) + 1):
            if any(is_param(segment) for segment in segments[:length]):
                break
            collections[_join(segments[:length])] = None
    for collection in collections:
        segments = split(collection)
        for prefix in SHADOW_PREFIXES:
            found[_join([*segments[:-1], prefix, *segments[-1:]])] = None
    return [path for path in found if path not in documented][:MAX_SHADOW_PROBES]


def _join(segments: list[str]) -> str:
    return "/" + "/".join(segments)


def _concrete(path: str) -> str:
    return "/".join("1" if is_param(segment) else segment for segment in path.split("/"))


async def _undocumented(ctx: ScanContext) -> list[Finding]:
    candidates = _candidates(ctx)
    prefixes = sorted({_concrete(path).rsplit("/", 1)[0] for path in candidates})
    replies = await asyncio.gather(*(random_control(ctx, prefix) for prefix in prefixes))
    controls = dict(zip(prefixes, replies, strict=True))
    found = await asyncio.gather(*(_probe(ctx, path, controls) for path in candidates))
    return [finding for finding in found if finding is not None]


async def _probe(ctx: ScanContext, path: str, controls: dict[str, Reply]) -> Finding | None:
    concrete = _concrete(path)
    control = controls[concrete.rsplit("/", 1)[0]]
    session = ctx.users[0] if ctx.users else None
    anonymous = await ctx.send("GET", concrete, None)
    reply = anonymous if anonymous.ok else await ctx.send("GET", concrete, session)
    if not differs_from(reply, control):
        return None
    again = await ctx.send("GET", concrete, None if anonymous.ok else session)
    if not again.ok:
        return None
    audience = "without credentials" if anonymous.ok else "to a normal user"
    documentation = any(path.endswith(item) for item in DOCUMENTATION_PATHS)
    return ctx.finding(
        kind="undocumented-endpoint", check=NAME,
        severity=Severity.LOW if documentation else Severity.MEDIUM,
        category=CATEGORY, operation=None, method="GET", path=path, cwe=1059,
        title=f"Undocumented endpoint GET {path}",
        detail=(f"GET {concrete} is not in the document and returned {reply.status} "
                f"{audience}, unlike a random path under the same prefix."),
        remediation="Document every deployed endpoint or remove it; keep an inventory of "
                    "hosts, versions and routes and compare it with traffic.",
        evidence=[(control, "a random path, for comparison"),
                  (reply, f"the undocumented endpoint responds {audience}")])
