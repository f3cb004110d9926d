"""The inventory of one service: its path tree and the endpoints learned so far."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from stockade.protection.discovery.endpoint import EndpointStats
from stockade.protection.discovery.templating import PathTooDeep, PathTree, split_template

log = logging.getLogger(__name__)

MAX_ENDPOINTS = 5_000
"""Endpoints kept per service; past it new endpoints are counted in ``overflow`` only."""


@dataclass(slots=True)
class ServiceInventory:
    tenant: str
    service: str
    tree: PathTree = field(default_factory=PathTree)
    endpoints: dict[tuple[str, str], EndpointStats] = field(default_factory=dict)
    overflow: int = 0  # observations of endpoints past MAX_ENDPOINTS or past the tree's depth
    _revision: int = 0

    def learn(self, path: str, unit: EndpointStats) -> EndpointStats | None:
        """Add one observation of ``path``; ``unit`` carries its counts and is never kept.

        Return the endpoint it was merged into, or None when the inventory is full.
        """
        try:
            template = self.tree.learn(split_template(path))
        except PathTooDeep:
            self.overflow += 1
            return None
        if self.tree.revision != self._revision:
            self.rekey()
        existing = self.endpoints.get((unit.method, template))
        if existing is not None:
            existing.merge(unit)
            return existing
        return self.add(unit.copy_as(template))

    def add(self, endpoint: EndpointStats) -> EndpointStats | None:
        """Merge an endpoint whose template is already resolved in this tree."""
        existing = self.endpoints.get(endpoint.key)
        if existing is None:
            if len(self.endpoints) >= MAX_ENDPOINTS:
                self.overflow += endpoint.hits
                return None
            self.endpoints[endpoint.key] = endpoint
            return endpoint
        existing.merge(endpoint)
        return existing

    def resolve(self, template: str) -> str:
        return self.tree.resolve(split_template(template))

    def rekey(self) -> None:
        """Move every endpoint to its template under the current tree; endpoints that meet merge."""
        self._revision = self.tree.revision
        moved: list[EndpointStats] = []
        for key in list(self.endpoints):
            template = key[1]
            current = self.resolve(template)
            if current != template:
                moved.append(self.endpoints.pop(key).copy_as(current))
        for endpoint in moved:
            existing = self.endpoints.get(endpoint.key)
            if existing is None:
                self.endpoints[endpoint.key] = endpoint
            else:
                existing.merge(endpoint)
        if moved:
            log.debug("re-keyed %s endpoints of %s/%s", len(moved), self.tenant, self.service)

    def merge(self, other: ServiceInventory) -> None:
        """Add another inventory of the same service (its tree first, then its endpoints)."""
        self.tree.merge(other.tree)
        self.rekey()
        self.overflow += other.overflow
        for endpoint in other.endpoints.values():
            template = self.resolve(endpoint.template)
            self.add(endpoint.copy_as(template))

    @property
    def hits(self) -> int:
        return sum(endpoint.hits for endpoint in self.endpoints.values())

    def first_seen(self) -> float | None:
        times = [endpoint.first_seen for endpoint in self.endpoints.values() if endpoint.hits]
        return min(times) if times else None

    def find(self, method: str, path: str) -> EndpointStats | None:
        """Return the endpoint a concrete path belongs to, without learning it."""
        return self.endpoints.get((method, self.resolve(path)))

    def to_dict(self) -> dict[str, Any]:
        return {
            "tenant": self.tenant,
            "service": self.service,
            "tree": self.tree.to_dict(),
            "overflow": self.overflow,
            "endpoints": [endpoint.to_dict() for endpoint in self.endpoints.values()],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ServiceInventory:
        inventory = cls(
            data["tenant"],
            data["service"],
            PathTree.from_dict(data["tree"]),
            overflow=int(data.get("overflow", 0)),
        )
        for item in data["endpoints"]:
            endpoint = EndpointStats.from_dict(item)
            inventory.endpoints[endpoint.key] = endpoint
        return inventory
