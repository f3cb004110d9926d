"""The deny-list feed: findings that the gateway can close by refusing a route.

``findings_to_blocks`` turns findings about endpoints that should not be
reachable at all (debug endpoints, undocumented and deprecated ones, and
methods a route does not declare) into route blocks that runtime
protection can enforce until the API itself is fixed. Findings that need
a fix in the API's logic (BOLA, injection, ...) yield no block.

``store_blocks`` writes them to the store as route blocks of a service
(``stockade.store.route_blocks``); gateways with
``protection.blocking.store_sync_seconds`` set read them and refuse the
route with 403 until the block expires or an operator deletes it.
"""

from __future__ import annotations

from dataclasses import dataclass

from stockade.scanner.findings import Finding
from stockade.store.route_blocks import add_route_block
from stockade.store.scope import Store

ACTOR = "stockade-scan"
DEFAULT_BLOCK_SECONDS = 7 * 24 * 3600
"""How long a scanner's route block lasts unless the caller sets another duration."""

BLOCKED_KINDS = {
    "debug-endpoint": "debug endpoint reachable",
    "undocumented-endpoint": "undocumented endpoint",
    "deprecated-operation-served": "deprecated operation still served",
    "unsupported-method-200": "undeclared method returns 2xx",
}
"""Finding kinds whose route can simply be refused, and the reason a block records."""


@dataclass(frozen=True, slots=True)
class RouteBlock:
    """Refuse ``method`` (or every method, ``*``) on ``path``.

    ``path`` is what a client sends, base path included, with OpenAPI
    ``{name}`` segments where the document has parameters.
    """

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
        key = (finding.method, finding.request_path)
        blocks.setdefault(key, RouteBlock(finding.method, finding.request_path,
                                          f"stockade scan: {reason}", finding.fingerprint,
                                          finding.severity.name.lower()))
    return list(blocks.values())


def store_blocks(store: Store, tenant: str, service: str, blocks: list[RouteBlock],
                 ttl_seconds: float = DEFAULT_BLOCK_SECONDS) -> int:
    """Add ``blocks`` as route blocks of ``tenant``'s ``service``; return how many.

    A route that is already blocked has its block renewed. Raises NotFound
    when the tenant or service does not exist, and ValueError for a
    duration out of range.
    """
    with store.session(None, ACTOR) as scope:
        for block in blocks:
            add_route_block(scope, tenant, service, block.method, block.path, block.reason,
                            ttl_seconds, origin="scanner", finding_id=block.finding_id)
    return len(blocks)
