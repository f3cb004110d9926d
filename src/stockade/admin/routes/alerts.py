"""Alert rules of a tenant."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Response, status

from stockade.admin.context import TenantConfigWriter, TenantReader
from stockade.events.config import AlertRule
from stockade.store import alerts

router = APIRouter(prefix="/v1/tenants/{tenant_id}/alert-rules", tags=["alert rules"])


@router.get("")
def list_rules(context: TenantReader, tenant_id: str) -> list[dict[str, Any]]:
    with context.session() as scope:
        return [rule.model_dump(mode="json") for rule in alerts.list_alert_rules(scope, tenant_id)]


@router.put("/{rule_id}")
def put_rule(context: TenantConfigWriter, tenant_id: str, rule_id: str, rule: AlertRule,
             response: Response) -> dict[str, Any]:
    if (rule.tenant, rule.id) != (tenant_id, rule_id):
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT,
                            "tenant and id in the body must match the path")
    with context.session() as scope:
        created = alerts.put_alert_rule(scope, rule)
    response.status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    return rule.model_dump(mode="json")


@router.get("/{rule_id}")
def get_rule(context: TenantReader, tenant_id: str, rule_id: str) -> dict[str, Any]:
    with context.session() as scope:
        return alerts.get_alert_rule(scope, tenant_id, rule_id).model_dump(mode="json")


@router.delete("/{rule_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_rule(context: TenantConfigWriter, tenant_id: str, rule_id: str) -> None:
    with context.session() as scope:
        alerts.delete_alert_rule(scope, tenant_id, rule_id)
