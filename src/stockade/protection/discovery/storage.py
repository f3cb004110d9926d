"""Persistent inventories, per tenant and service, with SQLAlchemy Core.

SQLite is the default; any SQLAlchemy URL works for the same tables. Writes
merge a delta (what one worker learned since its last write) into the stored
inventory inside one transaction, so several workers sharing a database add
their counts instead of overwriting each other's. Findings live in the same
database (see ``findings_store``).
"""

from __future__ import annotations

import json

from sqlalchemy import (
    Column,
    Float,
    Integer,
    String,
    Table,
    Text,
    and_,
    delete,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from stockade.protection.discovery.compare import RetiredOperation
from stockade.protection.discovery.database import StoreError, engine_for, metadata
from stockade.protection.discovery.endpoint import EndpointStats
from stockade.protection.discovery.findings_store import FindingStore
from stockade.protection.discovery.inventory import ServiceInventory
from stockade.protection.discovery.templating import PathTree

__all__ = ["InventoryStore", "StoreError"]


services_table = Table(
    "discovery_services",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("service", String(255), primary_key=True),
    Column("tree", Text, nullable=False),
    Column("overflow", Integer, nullable=False, default=0),
    Column("watched_since", Float, nullable=False),
    Column("declared_version", Text, nullable=True),
    Column("declared_keys", Text, nullable=True),  # JSON list of [method, path]
    Column("retired", Text, nullable=True),  # JSON list of [method, path, version]
)

endpoints_table = Table(
    "discovery_endpoints",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("service", String(255), primary_key=True),
    Column("method", String(32), primary_key=True),
    Column("template", String(2048), primary_key=True),
    Column("hits", Integer, nullable=False),
    Column("first_seen", Float, nullable=False),
    Column("last_seen", Float, nullable=False),
    Column("data", Text, nullable=False),
)


def _endpoint_json(endpoint: EndpointStats) -> str:
    return json.dumps(endpoint.to_dict(), sort_keys=True, separators=(",", ":"))


class InventoryStore:
    """Inventories, declared-document state and findings in one database."""

    def __init__(self, database: str) -> None:
        self.database = database
        try:
            self.engine = engine_for(database)
            metadata.create_all(self.engine)
        except SQLAlchemyError as error:
            raise StoreError(f"cannot open discovery database {database}: {error}") from error
        self.findings = FindingStore(self.engine)

    def close(self) -> None:
        self.engine.dispose()

    def services(self, tenant: str | None = None) -> list[tuple[str, str]]:
        query = select(services_table.c.tenant, services_table.c.service)
        if tenant is not None:
            query = query.where(services_table.c.tenant == tenant)
        with self.engine.connect() as connection:
            return [(row.tenant, row.service) for row in connection.execute(query)]

    def load(self, tenant: str, service: str) -> ServiceInventory | None:
        with self.engine.connect() as connection:
            loaded = self._load(connection, tenant, service)
        return loaded[0] if loaded else None

    def _load(
        self, connection: Connection, tenant: str, service: str
    ) -> tuple[ServiceInventory, dict[tuple[str, str], str]] | None:
        query = select(services_table).where(
            and_(services_table.c.tenant == tenant, services_table.c.service == service)
        )
        if self.engine.dialect.name != "sqlite":
            query = query.with_for_update()  # SQLite locks the file at BEGIN IMMEDIATE instead
        row = connection.execute(query).first()
        if row is None:
            return None
        inventory = ServiceInventory(
            tenant, service, PathTree.from_dict(json.loads(row.tree)), overflow=row.overflow
        )
        stored: dict[tuple[str, str], str] = {}
        for item in connection.execute(
            select(
                endpoints_table.c.method, endpoints_table.c.template, endpoints_table.c.data
            ).where(and_(endpoints_table.c.tenant == tenant, endpoints_table.c.service == service))
        ):
            endpoint = EndpointStats.from_dict(json.loads(item.data))
            inventory.endpoints[(item.method, item.template)] = endpoint
            stored[(item.method, item.template)] = item.data
        return inventory, stored

    def merge(self, delta: ServiceInventory, now: float) -> ServiceInventory:
        """Add ``delta`` to the stored inventory of its service and return the merged whole."""
        try:
            return self._merge_once(delta, now)
        except IntegrityError:
            # Another node inserted the service row first; its row is there to lock now.
            return self._merge_once(delta, now)

    def _merge_once(self, delta: ServiceInventory, now: float) -> ServiceInventory:
        tenant, service = delta.tenant, delta.service
        with self.engine.begin() as connection:
            loaded = self._load(connection, tenant, service)
            if loaded is None:
                merged = ServiceInventory(tenant, service)
                stored: dict[tuple[str, str], str] = {}
                watched_since = delta.first_seen() or now
                connection.execute(
                    insert(services_table).values(
                        tenant=tenant,
                        service=service,
                        tree="{}",
                        overflow=0,
                        watched_since=watched_since,
                    )
                )
            else:
                merged, stored = loaded
            merged.merge(delta)
            self._write_endpoints(connection, merged, stored)
            connection.execute(
                update(services_table)
                .where(and_(services_table.c.tenant == tenant, services_table.c.service == service))
                .values(
                    tree=json.dumps(merged.tree.to_dict(), separators=(",", ":")),
                    overflow=merged.overflow,
                )
            )
        return merged

    def _write_endpoints(
        self, connection: Connection, merged: ServiceInventory, stored: dict[tuple[str, str], str]
    ) -> None:
        tenant, service = merged.tenant, merged.service
        for key in stored.keys() - merged.endpoints.keys():
            connection.execute(
                delete(endpoints_table).where(
                    and_(
                        endpoints_table.c.tenant == tenant,
                        endpoints_table.c.service == service,
                        endpoints_table.c.method == key[0],
                        endpoints_table.c.template == key[1],
                    )
                )
            )
        for key, endpoint in merged.endpoints.items():
            data = _endpoint_json(endpoint)
            if stored.get(key) == data:
                continue
            values = {
                "hits": endpoint.hits,
                "first_seen": endpoint.first_seen,
                "last_seen": endpoint.last_seen,
                "data": data,
            }
            if key in stored:
                connection.execute(
                    update(endpoints_table)
                    .where(
                        and_(
                            endpoints_table.c.tenant == tenant,
                            endpoints_table.c.service == service,
                            endpoints_table.c.method == key[0],
                            endpoints_table.c.template == key[1],
                        )
                    )
                    .values(**values)
                )
            else:
                connection.execute(
                    insert(endpoints_table).values(
                        tenant=tenant, service=service, method=key[0], template=key[1], **values
                    )
                )

    def watched_since(self, tenant: str, service: str) -> float | None:
        with self.engine.connect() as connection:
            return connection.execute(
                select(services_table.c.watched_since).where(
                    and_(services_table.c.tenant == tenant, services_table.c.service == service)
                )
            ).scalar()

    def declared_state(
        self, tenant: str, service: str
    ) -> tuple[str | None, set[tuple[str, str]], list[RetiredOperation]]:
        """Return the last document's version and operations, and the retired operations."""
        with self.engine.connect() as connection:
            row = connection.execute(
                select(services_table).where(
                    and_(services_table.c.tenant == tenant, services_table.c.service == service)
                )
            ).first()
        if row is None or row.declared_keys is None:
            return None, set(), []
        keys = {(method, path) for method, path in json.loads(row.declared_keys)}
        retired = [RetiredOperation(*item) for item in json.loads(row.retired or "[]")]
        return row.declared_version, keys, retired

    def save_declared_state(
        self,
        tenant: str,
        service: str,
        version: str,
        keys: set[tuple[str, str]],
        retired: list[RetiredOperation],
        now: float,
    ) -> None:
        values = {
            "declared_version": version,
            "declared_keys": json.dumps(sorted(keys)),
            "retired": json.dumps([[item.method, item.path, item.version] for item in retired]),
        }
        with self.engine.begin() as connection:
            result = connection.execute(
                update(services_table)
                .where(and_(services_table.c.tenant == tenant, services_table.c.service == service))
                .values(**values)
            )
            if result.rowcount == 0:
                connection.execute(
                    insert(services_table).values(
                        tenant=tenant,
                        service=service,
                        tree="{}",
                        overflow=0,
                        watched_since=now,
                        **values,
                    )
                )
