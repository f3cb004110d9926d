"""Register the runtime protection stages with the gateway's pipeline.

The deny list runs first of all (order 50) and again right after
authentication (order 210), when consumer and API key ids are known. The
detectors run at order 500, after the WAF, each as its own layer so that
``Policy.modes`` sets block or detect per detector.
"""

from __future__ import annotations

from stockade.gateway.pipeline import StageRegistry
from stockade.protection.abuse import build_abuse_stage
from stockade.protection.auth_signals import build_auth_signals_stage
from stockade.protection.bfla import build_bfla_stage
from stockade.protection.blocking_stage import build_early_deny_stage, build_late_deny_stage
from stockade.protection.bola import build_bola_stage
from stockade.protection.leaks import build_leak_stage
from stockade.protection.openapi.stage import build_openapi_stage
from stockade.protection.ssrf import build_ssrf_stage

DENY_STAGE_ORDER = 50  # before every other stage
LATE_DENY_STAGE_ORDER = 210  # after authentication (200), before authorization (250)
PROTECTION_STAGE_ORDER = 500  # after the WAF (400)


def register(registry: StageRegistry) -> None:
    registry.register(DENY_STAGE_ORDER, "blocking", build_early_deny_stage)
    registry.register(LATE_DENY_STAGE_ORDER, "blocking.consumer", build_late_deny_stage)
    # Equal orders keep this sequence: the deny-worthy request checks come first, and the
    # OpenAPI stage strips undeclared response properties before the leak scan reads them.
    registry.register(PROTECTION_STAGE_ORDER, "protection.auth-signals", build_auth_signals_stage)
    registry.register(PROTECTION_STAGE_ORDER, "protection.bfla", build_bfla_stage)
    registry.register(PROTECTION_STAGE_ORDER, "protection.openapi", build_openapi_stage)
    registry.register(PROTECTION_STAGE_ORDER, "protection.ssrf", build_ssrf_stage)
    registry.register(PROTECTION_STAGE_ORDER, "protection.bola", build_bola_stage)
    registry.register(PROTECTION_STAGE_ORDER, "protection.abuse", build_abuse_stage)
    registry.register(PROTECTION_STAGE_ORDER, "protection.leaks", build_leak_stage)
