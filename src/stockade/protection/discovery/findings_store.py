"""Findings in the database: recorded once, emitted once.

The table is an outbox. A finding is inserted the first time any worker
finds it (its key is the primary key, so a second insert fails and the
finding is not recorded twice). Emitting is a second step: a worker with an
event pipeline claims an unemitted finding with a conditional update, so
exactly one worker turns it into a security event, also after restarts and
when the pipeline was attached only later.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import (
    Column,
    ColumnElement,
    Engine,
    Float,
    Integer,
    String,
    Table,
    Text,
    and_,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from stockade.protection.discovery.compare import Finding
from stockade.protection.discovery.database import metadata

MAX_CLAIMED_PER_CALL = 1000
"""Findings emitted per flush and service; the rest wait for the next flush."""

findings_table = Table(
    "discovery_findings",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("service", String(255), primary_key=True),
    Column("key", String(2048), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("found_at", Float, nullable=False),
    Column("emitted_at", Float, nullable=True),
    Column("emitted", Integer, nullable=False, default=0),
    Column("data", Text, nullable=False),
)


@dataclass(frozen=True, slots=True)
class StoredFinding:
    tenant: str
    service: str
    finding: Finding
    found_at: float
    emitted_at: float | None


class FindingStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def _scope(self, tenant: str, service: str) -> ColumnElement[bool]:
        return and_(findings_table.c.tenant == tenant, findings_table.c.service == service)

    def record(self, tenant: str, service: str, findings: Iterable[Finding], now: float) -> int:
        """Insert the findings not recorded before; return how many were new."""
        added = 0
        for finding in findings:
            try:
                with self.engine.begin() as connection:
                    connection.execute(
                        insert(findings_table).values(
                            tenant=tenant,
                            service=service,
                            key=finding.key,
                            kind=finding.kind,
                            found_at=now,
                            emitted=0,
                            data=json.dumps(finding.to_dict()),
                        )
                    )
            except IntegrityError:
                continue
            added += 1
        return added

    def known(self, tenant: str, service: str) -> set[str]:
        """Return the keys of every recorded finding of a service."""
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(findings_table.c.key).where(self._scope(tenant, service))
            )
            return set(rows.scalars())

    def claim_unemitted(self, tenant: str, service: str, now: float) -> list[Finding]:
        """Mark unemitted findings as emitted and return those this caller won."""
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(findings_table.c.key, findings_table.c.data)
                .where(and_(self._scope(tenant, service), findings_table.c.emitted == 0))
                .order_by(findings_table.c.found_at)
                .limit(MAX_CLAIMED_PER_CALL)
            ).all()
        claimed: list[Finding] = []
        for row in rows:
            with self.engine.begin() as connection:
                result = connection.execute(
                    update(findings_table)
                    .where(
                        and_(
                            self._scope(tenant, service),
                            findings_table.c.key == row.key,
                            findings_table.c.emitted == 0,
                        )
                    )
                    .values(emitted=1, emitted_at=now)
                )
            if result.rowcount == 1:
                claimed.append(Finding.from_dict(json.loads(row.data)))
        return claimed

    def list(
        self, tenant: str | None = None, service: str | None = None, kind: str | None = None
    ) -> list[StoredFinding]:
        """Return recorded findings, oldest first, filtered by tenant, service and kind."""
        query = select(findings_table).order_by(findings_table.c.found_at, findings_table.c.key)
        if tenant is not None:
            query = query.where(findings_table.c.tenant == tenant)
        if service is not None:
            query = query.where(findings_table.c.service == service)
        if kind is not None:
            query = query.where(findings_table.c.kind == kind)
        with self.engine.connect() as connection:
            return [
                StoredFinding(
                    row.tenant,
                    row.service,
                    Finding.from_dict(json.loads(row.data)),
                    row.found_at,
                    row.emitted_at,
                )
                for row in connection.execute(query)
            ]
