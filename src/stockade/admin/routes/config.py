"""The whole config: export the store as one document, or import one."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from stockade.admin.context import Context
from stockade.admin.roles import Permission
from stockade.config.models import GatewayConfig
from stockade.store.config_sync import config_to_yaml_data, export_config, import_config

router = APIRouter(prefix="/v1/config", tags=["config"])


@router.get("")
def export(context: Context) -> dict[str, Any]:
    """Export the config as the YAML file would contain it, with only the keys that are set."""
    context.require(Permission.READ_ALL_TENANTS)
    with context.session() as scope:
        return config_to_yaml_data(export_config(scope))


@router.put("")
def replace(context: Context, config: GatewayConfig) -> dict[str, Any]:
    """Replace the whole config; tenants missing from the body are deleted."""
    context.require(Permission.MANAGE_TENANTS)
    with context.session() as scope:
        import_config(scope, config)
        return config_to_yaml_data(export_config(scope))
