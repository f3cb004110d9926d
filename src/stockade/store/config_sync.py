"""Import a ``GatewayConfig`` into the store and export the store as one.

The YAML file and the admin API are two ways into the same model: what one
writes, the other reads back unchanged. Gateway-wide sections are kept in
the settings table by name; tenants and everything below them, and the
alert rules, get their own tables.
"""

from __future__ import annotations

from typing import Any

from stockade.config.models import GatewayConfig
from stockade.events.config import AlertRule
from stockade.store import alerts, schema, tenancy
from stockade.store.scope import Scope

_TABLE_SECTIONS = frozenset({"tenants"})


def import_config(scope: Scope, config: GatewayConfig) -> None:
    """Make the store hold exactly ``config``: tenants missing from it are deleted."""
    scope.require_all_tenants("importing a whole config")
    data = config.model_dump(mode="json", exclude_unset=True)
    events = dict(data.get("events", {}))
    events.pop("alert_rules", None)
    sections = {name: value for name, value in data.items() if name not in _TABLE_SECTIONS}
    if "events" in sections:
        sections["events"] = events
    _replace_settings(scope, sections)

    keep = {tenant.id for tenant in config.tenants}
    for tenant_id in tenancy.list_tenant_ids(scope):
        if tenant_id not in keep:
            tenancy.delete_tenant(scope, tenant_id)
    for tenant in config.tenants:
        tenancy.put_tenant(scope, tenant, replace=tenancy.CHILDREN)

    rules = {(rule.tenant, rule.id): rule for rule in config.events.alert_rules}
    for existing in alerts.list_alert_rules(scope):
        if (existing.tenant, existing.id) not in rules:
            alerts.delete_alert_rule(scope, existing.tenant, existing.id)
    for rule in rules.values():
        alerts.put_alert_rule(scope, rule)


def _replace_settings(scope: Scope, sections: dict[str, Any]) -> None:
    table = schema.settings
    for row in scope.fetch_all(table):
        if row["key"] not in sections:
            scope.delete("setting", row["key"], table, table.c.key == row["key"])
    for key, document in sections.items():
        scope.put("setting", key, table, table.c.key == key, {"key": key, "document": document})


def export_config(scope: Scope) -> GatewayConfig:
    """Assemble the whole config from the store."""
    scope.require_all_tenants("exporting a whole config")
    data: dict[str, Any] = {row["key"]: row["document"] for row in scope.fetch_all(schema.settings)}
    tenants = [tenancy.get_tenant(scope, tenant_id) for tenant_id in tenancy.list_tenant_ids(scope)]
    if tenants:
        data["tenants"] = tenants
    rules: list[AlertRule] = alerts.list_alert_rules(scope)
    if rules:
        data["events"] = {**data.get("events", {}), "alert_rules": rules}
    return GatewayConfig.model_validate(data)


def config_to_yaml_data(config: GatewayConfig) -> dict[str, Any]:
    """Return the config as plain data for ``yaml.safe_dump``, with only the keys set."""
    data: dict[str, Any] = config.model_dump(mode="json", exclude_unset=True)
    return data
