"""Alert rules of a tenant, kept as ``events.config.AlertRule`` documents."""

from __future__ import annotations

from typing import Any

from stockade.events.config import AlertRule
from stockade.store import schema
from stockade.store.scope import Scope, all_of


def _rule_key(tenant_id: str, rule_id: str) -> Any:
    table = schema.alert_rules
    return all_of(table.c.tenant_id == tenant_id, table.c.rule_id == rule_id)


def put_alert_rule(scope: Scope, rule: AlertRule) -> bool:
    """Create or replace a rule; return True when it was created."""
    scope.require_tenant(rule.tenant)
    document = rule.model_dump(mode="json", exclude_unset=True)
    return scope.put("alert rule", f"{rule.tenant}/{rule.id}", schema.alert_rules,
                     _rule_key(rule.tenant, rule.id),
                     {"tenant_id": rule.tenant, "rule_id": rule.id, "document": document})


def get_alert_rule(scope: Scope, tenant_id: str, rule_id: str) -> AlertRule:
    row = scope.get("alert rule", f"{tenant_id}/{rule_id}", schema.alert_rules,
                    _rule_key(tenant_id, rule_id))
    return AlertRule.model_validate(row["document"])


def list_alert_rules(scope: Scope, tenant_id: str | None = None) -> list[AlertRule]:
    """Rules of one tenant, or of every tenant the scope sees."""
    table = schema.alert_rules
    conditions = []
    if tenant_id is not None:
        scope.require_tenant(tenant_id)
        conditions.append(table.c.tenant_id == tenant_id)
    rows = scope.fetch_all(table, *conditions, order_by=[table.c.tenant_id, table.c.rule_id])
    return [AlertRule.model_validate(row["document"]) for row in rows]


def delete_alert_rule(scope: Scope, tenant_id: str, rule_id: str) -> None:
    scope.delete("alert rule", f"{tenant_id}/{rule_id}", schema.alert_rules,
                 _rule_key(tenant_id, rule_id))
