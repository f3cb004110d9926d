"""Security events in the store: idempotent insert, filtered and paginated queries."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select

from stockade.events.model import Action, SecurityEvent, Severity
from stockade.store import schema
from stockade.store.scope import Row, Scope, all_of

MAX_PAGE_SIZE = 1000
"""Most events returned by one query page, to bound memory and response size."""

_LIKE_ESCAPE = "\\"


@dataclass(frozen=True, slots=True)
class EventFilter:
    tenant_id: str | None = None
    since: float | None = None  # inclusive, Unix seconds
    until: float | None = None  # exclusive, Unix seconds
    min_severity: Severity | None = None
    rule_id: str | None = None
    client_ip: str | None = None
    consumer: str | None = None
    layer: str | None = None
    kind: str | None = None
    action: Action | None = None


@dataclass(frozen=True, slots=True)
class EventPage:
    events: list[SecurityEvent]
    next_cursor: str | None  # pass back to get the next page; None on the last page


def event_row(event: SecurityEvent) -> dict[str, Any]:
    return {
        "event_id": event.id, "tenant_id": event.tenant, "time": event.time,
        "layer": event.layer, "kind": event.kind, "severity": int(event.severity),
        "action": event.action.value, "message": event.message, "service_id": event.service,
        "route_id": event.route, "request_id": event.request_id, "client_ip": event.client_ip,
        "consumer": event.consumer, "method": event.method, "path": event.path,
        "rule_ids": list(event.rule_ids),
        "rule_index": "," + ",".join(event.rule_ids) + "," if event.rule_ids else "",
        "evidence": event.evidence, "acknowledged": False,
    }


def row_event(row: Row) -> SecurityEvent:
    return SecurityEvent(
        tenant=row["tenant_id"], layer=row["layer"], kind=row["kind"],
        severity=Severity(row["severity"]), action=Action(row["action"]),
        message=row["message"], service=row["service_id"], route=row["route_id"],
        request_id=row["request_id"], client_ip=row["client_ip"], consumer=row["consumer"],
        method=row["method"], path=row["path"], rule_ids=list(row["rule_ids"]),
        evidence=dict(row["evidence"]), time=row["time"], id=row["event_id"],
    )


def insert_events(scope: Scope, events: Sequence[SecurityEvent]) -> int:
    """Insert events whose id is not stored yet; return how many were new.

    Inserting the same event twice stores it once, which makes the store
    sink exactly-once even though delivery to it is retried.
    """
    if not events:
        return 0
    table = schema.events
    unique = {event.id: event for event in events}
    existing = {
        row[0] for row in scope.connection.execute(
            select(table.c.event_id).where(scope.where_scope(table),
                                           table.c.event_id.in_(list(unique))))
    }
    rows = [event_row(event) for event_id, event in unique.items() if event_id not in existing]
    scope.insert_unaudited(table, rows)
    return len(rows)


def _conditions(scope: Scope, where: EventFilter) -> list[ColumnElement[bool]]:
    table = schema.events
    conditions: list[ColumnElement[bool]] = []
    if where.tenant_id is not None:
        scope.require_tenant(where.tenant_id)
        conditions.append(table.c.tenant_id == where.tenant_id)
    if where.since is not None:
        conditions.append(table.c.time >= where.since)
    if where.until is not None:
        conditions.append(table.c.time < where.until)
    if where.min_severity is not None:
        conditions.append(table.c.severity >= int(where.min_severity))
    if where.rule_id is not None:
        pattern = "%," + _escape_like(where.rule_id) + ",%"
        conditions.append(table.c.rule_index.like(pattern, escape=_LIKE_ESCAPE))
    for column, value in ((table.c.client_ip, where.client_ip), (table.c.consumer, where.consumer),
                          (table.c.layer, where.layer), (table.c.kind, where.kind)):
        if value is not None:
            conditions.append(column == value)
    if where.action is not None:
        conditions.append(table.c.action == where.action.value)
    return conditions


def _escape_like(text: str) -> str:
    for special in (_LIKE_ESCAPE, "%", "_"):
        text = text.replace(special, _LIKE_ESCAPE + special)
    return text


def query_events(scope: Scope, where: EventFilter, limit: int = 100,
                 cursor: str | None = None) -> EventPage:
    """Return one page of matching events, newest first."""
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise ValueError(f"page size {limit} is out of range; use 1 to {MAX_PAGE_SIZE}")
    table = schema.events
    conditions = _conditions(scope, where)
    if cursor is not None:
        after_time, after_id = decode_cursor(cursor)
        conditions.append(or_(table.c.time < after_time,
                              and_(table.c.time == after_time, table.c.event_id < after_id)))
    query = (scope.select(table, *conditions)
             .order_by(table.c.time.desc(), table.c.event_id.desc()).limit(limit + 1))
    rows = scope.rows(query)
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = encode_cursor(rows[-1]["time"], rows[-1]["event_id"])
    return EventPage([row_event(row) for row in rows], next_cursor)


def count_events(scope: Scope, where: EventFilter) -> int:
    return scope.count(schema.events, *_conditions(scope, where))


def get_event(scope: Scope, event_id: str, tenant_id: str | None = None) -> SecurityEvent:
    table = schema.events
    conditions = [table.c.event_id == event_id]
    if tenant_id is not None:
        conditions.append(table.c.tenant_id == tenant_id)
    return row_event(scope.get("event", event_id, table, *conditions))


def is_acknowledged(scope: Scope, event_id: str) -> bool:
    table = schema.events
    return bool(scope.get("event", event_id, table, table.c.event_id == event_id)["acknowledged"])


def acknowledge_event(scope: Scope, tenant_id: str, event_id: str, acknowledged: bool) -> None:
    """Mark an event as handled by an analyst (or not); the change is audited."""
    table = schema.events
    scope.update("event", event_id, table,
                 all_of(table.c.tenant_id == tenant_id, table.c.event_id == event_id),
                 {"acknowledged": acknowledged}, config=False)


def purge_events(scope: Scope, before: float) -> int:
    """Delete events older than ``before``; return how many were deleted."""
    table = schema.events
    result = scope.connection.execute(
        table.delete().where(scope.where_scope(table), table.c.time < before))
    return int(result.rowcount)


def encode_cursor(after_time: float, after_id: str) -> str:
    return base64.urlsafe_b64encode(f"{after_time!r}|{after_id}".encode()).decode()


def decode_cursor(cursor: str) -> tuple[float, str]:
    try:
        text = base64.urlsafe_b64decode(cursor.encode()).decode()
        time_text, _, event_id = text.partition("|")
        return float(time_text), event_id
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise ValueError(f"invalid page cursor {cursor!r}; pass the next_cursor value "
                         "of the previous page unchanged") from exc

