"""Registration of the access-control stages: IP rules, CORS and authorization."""

from __future__ import annotations

from stockade.access.authorization import AUTHORIZATION_STAGE_ORDER, build_authorization_stage
from stockade.access.cors import CORS_STAGE_ORDER, build_cors_stage
from stockade.access.ip_rules import IP_STAGE_ORDER, build_ip_stage
from stockade.gateway.pipeline import StageRegistry


def register(registry: StageRegistry) -> None:
    registry.register(IP_STAGE_ORDER, "access.ip", build_ip_stage)
    registry.register(CORS_STAGE_ORDER, "cors", build_cors_stage)
    registry.register(AUTHORIZATION_STAGE_ORDER, "access.authz", build_authorization_stage)
