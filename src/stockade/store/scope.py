"""The scoped repository: the one place where tenant isolation is enforced.

Every store function takes a ``Scope`` and reads and writes only through
its methods. A scope sees either every tenant (MSSP operators, the gateway)
or one tenant, and it adds that tenant to every query: a row of another
tenant is never selected, updated or deleted, and looks exactly like a
missing row. Each config write is recorded in ``config_history`` with the
actor and the row before and after, in the same transaction.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import ColumnElement, Select, Table, and_, func, insert, select, true
from sqlalchemy.engine import Connection, Engine, RowMapping
from sqlalchemy.exc import IntegrityError

from stockade.store import schema
from stockade.store.errors import Conflict, NotFound, OutOfScope

log = logging.getLogger(__name__)

CONFIG_CHANNEL = "stockade_config"
"""PostgreSQL NOTIFY channel that carries the new config version after each change."""

HIDDEN_COLUMNS = frozenset({"secret_hash", "token_hash", "request"})
"""Columns never copied into config history; a scan's ``request`` may carry credentials."""

Row = dict[str, Any]


class Scope:
    """One transaction of one actor, limited to one tenant or open to all."""

    def __init__(self, connection: Connection, tenant_id: str | None, actor: str) -> None:
        self.connection = connection
        self.tenant_id = tenant_id
        self.actor = actor
        self._config_changed = False

    @property
    def all_tenants(self) -> bool:
        return self.tenant_id is None

    def visible(self, tenant_id: str) -> bool:
        return self.tenant_id is None or self.tenant_id == tenant_id

    def require_all_tenants(self, what: str) -> None:
        if self.tenant_id is not None:
            raise OutOfScope(f"{what} needs an all-tenants scope, not tenant {self.tenant_id!r}")

    def require_tenant(self, tenant_id: str) -> None:
        """Raise NotFound unless the tenant exists and this scope may see it."""
        if not self.visible(tenant_id):
            raise NotFound("tenant", tenant_id)
        found = self.connection.execute(
            select(schema.tenants.c.tenant_id).where(schema.tenants.c.tenant_id == tenant_id)
        ).first()
        if found is None:
            raise NotFound("tenant", tenant_id)

    # --- reads -----------------------------------------------------------

    def where_scope(self, table: Table) -> ColumnElement[bool]:
        """Return the tenant condition for ``table``; every query of a tenant table uses it."""
        if self.tenant_id is None:
            return true()
        return table.c.tenant_id == self.tenant_id

    def select(self, table: Table, *conditions: ColumnElement[bool]) -> Select[Any]:
        return select(table).where(self.where_scope(table), *conditions)

    def rows(self, query: Select[Any]) -> list[Row]:
        return [dict(row) for row in self.connection.execute(query).mappings()]

    def fetch_all(self, table: Table, *conditions: ColumnElement[bool],
                  order_by: Sequence[Any] = ()) -> list[Row]:
        return self.rows(self.select(table, *conditions).order_by(*order_by))

    def fetch_one(self, table: Table, *conditions: ColumnElement[bool]) -> Row | None:
        row: RowMapping | None = self.connection.execute(
            self.select(table, *conditions)).mappings().first()
        return dict(row) if row is not None else None

    def get(self, kind: str, object_id: str, table: Table,
            *conditions: ColumnElement[bool]) -> Row:
        row = self.fetch_one(table, *conditions)
        if row is None:
            raise NotFound(kind, object_id)
        return row

    def count(self, table: Table, *conditions: ColumnElement[bool]) -> int:
        query = select(func.count()).select_from(table).where(self.where_scope(table), *conditions)
        return int(self.connection.execute(query).scalar_one())

    # --- writes ------------------------------------------------------------

    def insert(self, kind: str, object_id: str, table: Table, values: Mapping[str, Any],
               *, config: bool = True) -> None:
        tenant_id = values.get("tenant_id")
        if tenant_id is not None and not self.visible(tenant_id):
            raise NotFound("tenant", tenant_id)
        if tenant_id is None:
            self.require_all_tenants(f"creating {kind} {object_id!r}")
        try:
            with self.connection.begin_nested():
                self.connection.execute(insert(table).values(**values))
        except IntegrityError as exc:
            raise Conflict(kind, object_id, _integrity_detail(exc)) from exc
        self._audit(tenant_id, "create", kind, object_id, None, dict(values), config=config)

    def update(self, kind: str, object_id: str, table: Table, key: ColumnElement[bool],
               values: Mapping[str, Any], *, config: bool = True) -> Row:
        moved_to = values.get("tenant_id")
        if moved_to is not None and not self.visible(moved_to):
            raise NotFound("tenant", moved_to)
        before = self.get(kind, object_id, table, key)
        if all(before.get(name) == value for name, value in values.items()):
            return before
        self.connection.execute(
            table.update().where(self.where_scope(table), key).values(**values))
        after = {**before, **values}
        self._audit(before.get("tenant_id"), "update", kind, object_id, before, after,
                    config=config)
        return after

    def delete(self, kind: str, object_id: str, table: Table, key: ColumnElement[bool],
               *, config: bool = True) -> Row:
        before = self.get(kind, object_id, table, key)
        self.connection.execute(table.delete().where(self.where_scope(table), key))
        self._audit(before.get("tenant_id"), "delete", kind, object_id, before, None,
                    config=config)
        return before

    def put(self, kind: str, object_id: str, table: Table, key: ColumnElement[bool],
            values: Mapping[str, Any]) -> bool:
        """Insert or replace one row; return True when it was created."""
        if self.fetch_one(table, key) is None:
            self.insert(kind, object_id, table, values)
            return True
        self.update(kind, object_id, table, key, values)
        return False

    def insert_unaudited(self, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
        """Insert rows that are records rather than config, such as security events."""
        for row in rows:
            tenant_id = row.get("tenant_id")
            if tenant_id is not None and not self.visible(tenant_id):
                raise NotFound("tenant", tenant_id)
        if rows:
            self.connection.execute(insert(table), list(rows))

    def _audit(self, tenant_id: str | None, action: str, kind: str, object_id: str,
               before: Row | None, after: Row | None, *, config: bool) -> None:
        self.connection.execute(insert(schema.config_history).values(
            tenant_id=tenant_id,
            time=time.time(),
            operator=self.actor,
            action=action,
            object_kind=kind,
            object_id=object_id,
            before=_public(before),
            after=_public(after),
        ))
        if config:
            self._config_changed = True

    def finish(self) -> int | None:
        """Bump the config version when config changed; return the new version."""
        if not self._config_changed:
            return None
        return bump_config_version(self.connection)


def bump_config_version(connection: Connection) -> int:
    table = schema.config_version
    now = time.time()
    updated = connection.execute(
        table.update().where(table.c.id == 1)
        .values(version=table.c.version + 1, changed_at=now)
        .returning(table.c.version)
    ).scalar_one_or_none()
    if updated is None:
        connection.execute(insert(table).values(id=1, version=1, changed_at=now))
        updated = 1
    if connection.dialect.name == "postgresql":
        # Delivered to listeners when the transaction commits, never before.
        connection.execute(select(func.pg_notify(CONFIG_CHANNEL, str(updated))))
    return int(updated)


def read_config_version(connection: Connection) -> int:
    table = schema.config_version
    version = connection.execute(
        select(table.c.version).where(table.c.id == 1)).scalar_one_or_none()
    return int(version or 0)


def _public(row: Row | None) -> Row | None:
    if row is None:
        return None
    return {key: value for key, value in row.items() if key not in HIDDEN_COLUMNS}


def _integrity_detail(exc: IntegrityError) -> str:
    text = str(exc.orig).lower()
    if "unique" in text or "duplicate" in text:
        return "already exists"
    if "foreign key" in text:
        return "refers to an object that does not exist"
    return "violates a constraint of the store"


class Store:
    """The store of one database; open a ``session`` for each unit of work."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def session(self, tenant_id: str | None, actor: str) -> Iterator[Scope]:
        """Open a transaction scoped to ``tenant_id`` (None: every tenant) for ``actor``."""
        with self.engine.begin() as connection:
            scope = Scope(connection, tenant_id, actor)
            yield scope
            version = scope.finish()
        if version is not None:
            log.info("config version %d written by %s", version, actor)

    def config_version(self) -> int:
        with self.engine.connect() as connection:
            return read_config_version(connection)

    def close(self) -> None:
        self.engine.dispose()


def all_of(*conditions: ColumnElement[bool]) -> ColumnElement[bool]:
    return and_(*conditions)
