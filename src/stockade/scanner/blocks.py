"""The deny-list feed: findings that the gateway can close by refusing a route.

``findings_to_blocks`` turns findings about endpoints that should not be
reachable at all (debug endpoints, undocumented and deprecated ones, and
methods a route does not declare) into route blocks that runtime
protection can enforce until the API itself is fixed. Findings that need
a fix in the API's logic (BOLA, injection, ...) yield no block.

The store's dynamic blocks (``stockade.store.blocks``) hold client
addresses only, so a route block has to be applied by the protection
side, which owns the deny list.
"""

from __future__ import annotations

from dataclasses import dataclass

from stockade.scanner.findings import Finding

BLOCKED_KINDS = {
    "debug-endpoint": "debug endpoint reachable",
    "undocumented-endpoint": "undocumented endpoint",
    "deprecated-operation-served": "deprecated operation still served",
    "unsupported-method-200": "undeclared method returns 2xx",
}
"""Finding kinds whose route can simply be refused, and the reason a block records."""


@dataclass(frozen=True, slots=True)
class RouteBlock:
    """Refuse ``method`` (or every method, ``*``) on ``path`` (an OpenAPI path template)."""

    method: str
    path: str
    reason: str
    finding_id: str
    severity: str


def findings_to_blocks(findings: list[Finding]) -> list[RouteBlock]:
    """The route blocks that close the given findings, one per method and path."""
    blocks: dict[tuple[str, str], RouteBlock] = {}
    for finding in findings:
        reason = BLOCKED_KINDS.get(finding.kind)
        if reason is None:
            continue
        key = (finding.method, finding.path)
        blocks.setdefault(key, RouteBlock(finding.method, finding.path,
                                          f"stockade scan: {reason}", finding.fingerprint,
                                          finding.severity.name.lower()))
    return list(blocks.values())
