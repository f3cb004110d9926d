"""One service as the observer tracks it: inventory, declared document, findings.

The tracker keeps two inventories: ``full`` (everything known, for
comparisons) and ``delta`` (what this worker learned since its last write).
A flush merges the delta into the database and takes the merged whole as
the new ``full``. It then compares the endpoints the delta touched with the
declared document, records new findings in the database, and returns the
recorded findings that no worker has emitted yet.
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
        self._known: set[str] = set()  # keys of findings already in the database

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
        """Store the delta and new findings; return the findings to emit (none unless ``claim``)."""
        await self.refresh_declared(store, now)
        touched = list(self.delta.endpoints.values())
        if touched or self.delta.overflow or not self._loaded:
            delta, self.delta = self.delta, ServiceInventory(self.tenant, self.service)
            try:
                self.full = await asyncio.to_thread(store.merge, delta, now)
            except BaseException:
                delta.merge(self.delta)  # keep the counts for the next attempt
                self.delta = delta
                raise
            if not self._loaded:
                self._watched_since = await asyncio.to_thread(
                    store.watched_since, self.tenant, self.service
                )
                self._known = await asyncio.to_thread(
                    store.findings.known, self.tenant, self.service
                )
            self._loaded = True
        if self.declared is not None:
            # The orphan search compares every declared operation with every endpoint,
            # so it runs off the event loop; the observer learns nothing meanwhile.
            findings = await asyncio.to_thread(
                self._compare, self.declared, touched, now, check_orphans
            )
            new = [finding for finding in findings if finding.key not in self._known]
            if new:
                await asyncio.to_thread(store.findings.record, self.tenant, self.service, new, now)
                self._known.update(finding.key for finding in new)
        if not claim:
            return []
        return await asyncio.to_thread(
            store.findings.claim_unemitted, self.tenant, self.service, now
        )

    def write_delta(self, store: InventoryStore, now: float) -> None:
        """Merge the unwritten delta into the database now, from any thread."""
        if self.delta.endpoints or self.delta.overflow:
            delta, self.delta = self.delta, ServiceInventory(self.tenant, self.service)
            self.full = store.merge(delta, now)

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
