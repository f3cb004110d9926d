"""One service as the observer tracks it: inventory, declared document, findings.

The tracker keeps two inventories: ``full`` (everything known, for
comparisons) and ``delta`` (what this worker learned since its last write).
A flush merges the delta into the database, takes the merged whole as the
new ``full``, compares the endpoints the delta touched with the declared
document, and returns the findings not reported before.
"""

from __future__ import annotations

import asyncio
import logging
import os

from stockade.config.models import Service
from stockade.protection.discovery.compare import (
    Finding,
    RetiredOperation,
    compare_endpoint,
    find_orphans,
    retired_operations,
)
from stockade.protection.discovery.config import DiscoveryPolicy
from stockade.protection.discovery.declared import DeclaredApi, DeclaredApiError, load_declared
from stockade.protection.discovery.endpoint import EndpointStats
from stockade.protection.discovery.inventory import ServiceInventory
from stockade.protection.discovery.storage import InventoryStore

log = logging.getLogger(__name__)

MAX_PENDING_FINDINGS = 10_000
"""Findings held while no event pipeline is attached; older ones are dropped past it."""


class ServiceTracker:
    def __init__(self, tenant: str, service: str) -> None:
        self.tenant = tenant
        self.service = service
        self.full = ServiceInventory(tenant, service)
        self.delta = ServiceInventory(tenant, service)
        self.policy = DiscoveryPolicy()
        self.openapi: str | None = None
        self.declared: DeclaredApi | None = None
        self.retired: list[RetiredOperation] = []
        self._declared_stamp: tuple[str, float] | None = None
        self._loaded = False
        self._watched_since: float | None = None
        self._reported: set[str] = set()
        self._pending: dict[str, Finding] = {}

    def configure(self, service: Service, policy: DiscoveryPolicy) -> None:
        self.policy = policy
        self.openapi = service.openapi if policy.compare_declared else None
        if self.openapi is None:
            self.declared = None
            self._declared_stamp = None

    def learn(self, path: str, unit: EndpointStats) -> None:
        self.full.learn(path, unit)
        self.delta.learn(path, unit)

    async def refresh_declared(self, store: InventoryStore, now: float) -> None:
        """Load the OpenAPI document when it is new or changed, and record retired operations."""
        if self.openapi is None:
            return
        try:
            stamp = (self.openapi, os.stat(self.openapi).st_mtime)
        except OSError as error:
            if self._declared_stamp != (self.openapi, -1.0):
                log.error(
                    "cannot read the OpenAPI document %s of %s/%s: %s",
                    self.openapi,
                    self.tenant,
                    self.service,
                    error.strerror,
                )
            self._declared_stamp = (self.openapi, -1.0)
            self.declared = None
            return
        if stamp == self._declared_stamp:
            return
        self._declared_stamp = stamp
        try:
            declared = await asyncio.to_thread(load_declared, self.openapi)
        except DeclaredApiError as error:
            log.error(
                "OpenAPI document of %s/%s is unusable, comparison is off until it changes: %s",
                self.tenant,
                self.service,
                error,
            )
            self.declared = None
            return
        version, keys, earlier = await asyncio.to_thread(
            store.declared_state, self.tenant, self.service
        )
        self.retired = retired_operations(version, keys, declared, earlier)
        await asyncio.to_thread(
            store.save_declared_state,
            self.tenant,
            self.service,
            declared.version,
            declared.keys(),
            self.retired,
            now,
        )
        self.declared = declared
        log.info(
            "loaded OpenAPI document %s (version %s, %d operations) for %s/%s",
            self.openapi,
            declared.version or "-",
            len(declared.operations),
            self.tenant,
            self.service,
        )

    async def flush(
        self, store: InventoryStore, now: float, check_orphans: bool, claim: bool
    ) -> list[Finding]:
        """Store the delta and return new findings (none unless ``claim``: they wait until then)."""
        await self.refresh_declared(store, now)
        touched = list(self.delta.endpoints.values())
        if touched or self.delta.overflow or not self._loaded:
            delta, self.delta = self.delta, ServiceInventory(self.tenant, self.service)
            self.full = await asyncio.to_thread(store.merge, delta, now)
            if not self._loaded:
                self._watched_since = await asyncio.to_thread(
                    store.watched_since, self.tenant, self.service
                )
                self._reported = await asyncio.to_thread(store.reported, self.tenant, self.service)
            self._loaded = True
        if self.declared is not None:
            self._collect(self._compare(self.declared, touched, now, check_orphans))
        if not claim or not self._pending:
            return []
        pending = list(self._pending.values())
        fresh = await asyncio.to_thread(
            store.claim_findings, self.tenant, self.service, pending, now
        )
        self._reported.update(finding.key for finding in pending)
        self._pending.clear()
        return fresh

    def _compare(
        self, declared: DeclaredApi, touched: list[EndpointStats], now: float, check_orphans: bool
    ) -> list[Finding]:
        findings: list[Finding] = []
        seen: set[tuple[str, str]] = set()
        for endpoint in touched:
            key = (endpoint.method, self.full.resolve(endpoint.template))
            current = self.full.endpoints.get(key)
            if current is not None and key not in seen:
                seen.add(key)
                findings.extend(compare_endpoint(declared, current, self.retired))
        if check_orphans:
            watched_since = self._watched_since or self.full.first_seen() or now
            findings.extend(
                find_orphans(declared, self.full, now, self.policy.orphan_after, watched_since)
            )
        return findings

    def _collect(self, findings: list[Finding]) -> None:
        for finding in findings:
            if finding.key in self._reported or finding.key in self._pending:
                continue
            if len(self._pending) >= MAX_PENDING_FINDINGS:
                log.warning(
                    "discovery of %s/%s holds %d unreported findings; dropping %r",
                    self.tenant,
                    self.service,
                    len(self._pending),
                    finding.key,
                )
                continue
            self._pending[finding.key] = finding
