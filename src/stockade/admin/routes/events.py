"""Security events: filtered, paginated queries and acknowledgement."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, status
from pydantic import BaseModel

from stockade.admin.context import Context, TenantEventWriter, TenantReader
from stockade.events.config import SeverityName, severity_of
from stockade.events.model import Action
from stockade.store import events
from stockade.store.events import MAX_PAGE_SIZE, EventFilter

router = APIRouter(tags=["events"])


class EventPage(BaseModel):
    events: list[dict[str, Any]]
    next_cursor: str | None


class Acknowledgement(BaseModel):
    acknowledged: bool


def _filter(tenant_id: str | None, since: float | None, until: float | None,
            severity: SeverityName | None, rule: str | None, client_ip: str | None,
            consumer: str | None, layer: str | None, kind: str | None,
            action: str | None) -> EventFilter:
    return EventFilter(
        tenant_id=tenant_id, since=since, until=until,
        min_severity=severity_of(severity) if severity else None, rule_id=rule,
        client_ip=client_ip, consumer=consumer, layer=layer, kind=kind,
        action=Action(action) if action else None)


Since = Annotated[float | None, Query(description="Start of the period, Unix seconds, inclusive.")]
Until = Annotated[float | None, Query(description="End of the period, Unix seconds, exclusive.")]
MinSeverity = Annotated[SeverityName | None, Query(description="This severity or higher.")]
Rule = Annotated[str | None, Query(max_length=128, description="A rule id the event carries.")]
ClientIp = Annotated[str | None, Query(max_length=64)]
ConsumerId = Annotated[str | None, Query(max_length=255)]
Layer = Annotated[str | None, Query(max_length=32)]
Kind = Annotated[str | None, Query(max_length=64)]
ActionName = Annotated[str | None, Query(pattern="^(blocked|detected|observed)$")]
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)]
Cursor = Annotated[str | None, Query(max_length=256, description="next_cursor of the last page.")]


def _page(page: events.EventPage) -> EventPage:
    return EventPage(events=[event.to_dict() for event in page.events],
                     next_cursor=page.next_cursor)


@router.get("/v1/events")
def list_all_events(context: Context, tenant: Annotated[str | None, Query(max_length=63)] = None,
                    since: Since = None, until: Until = None, severity: MinSeverity = None,
                    rule: Rule = None, client_ip: ClientIp = None, consumer: ConsumerId = None,
                    layer: Layer = None, kind: Kind = None, action: ActionName = None,
                    limit: Limit = 100, cursor: Cursor = None) -> EventPage:
    """Events of every tenant the caller can see, newest first."""
    where = _filter(tenant, since, until, severity, rule, client_ip, consumer, layer, kind, action)
    with context.session() as scope:
        return _page(events.query_events(scope, where, limit, cursor))


@router.get("/v1/tenants/{tenant_id}/events")
def list_tenant_events(context: TenantReader, tenant_id: str, since: Since = None,
                       until: Until = None, severity: MinSeverity = None, rule: Rule = None,
                       client_ip: ClientIp = None, consumer: ConsumerId = None,
                       layer: Layer = None, kind: Kind = None, action: ActionName = None,
                       limit: Limit = 100, cursor: Cursor = None) -> EventPage:
    where = _filter(tenant_id, since, until, severity, rule, client_ip, consumer, layer, kind,
                    action)
    with context.session() as scope:
        return _page(events.query_events(scope, where, limit, cursor))


@router.get("/v1/tenants/{tenant_id}/events/{event_id}")
def get_event(context: TenantReader, tenant_id: str, event_id: str) -> dict[str, Any]:
    with context.session() as scope:
        event = events.get_event(scope, event_id, tenant_id)
        acknowledged = events.is_acknowledged(scope, event_id)
    return {**event.to_dict(), "acknowledged": acknowledged}


@router.put("/v1/tenants/{tenant_id}/events/{event_id}/acknowledged",
            status_code=status.HTTP_204_NO_CONTENT)
def acknowledge_event(context: TenantEventWriter, tenant_id: str, event_id: str,
                      body: Acknowledgement) -> None:
    with context.session() as scope:
        events.acknowledge_event(scope, tenant_id, event_id, body.acknowledged)
