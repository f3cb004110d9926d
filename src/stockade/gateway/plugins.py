"""Where the gateway finds its stages, log observers and event pipeline.

Each layer package exposes ``register(registry)`` in a ``stage`` module;
observers and the event pipeline are factories taking the config.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from typing import Any

from stockade.gateway.pipeline import StageRegistry

log = logging.getLogger(__name__)

STAGE_MODULES = (
    "stockade.access.stage",
    "stockade.auth.stage",
    "stockade.ratelimit.stage",
    "stockade.waf.stage",
    "stockade.protection.stage",
    "stockade.csrf.stage",
    "stockade.ddos.stage",
)
"""Modules whose ``register(registry)`` adds stage factories; each sets its own order."""

OBSERVER_FACTORIES = (
    "stockade.protection.discovery.observer:create_observer",
    "stockade.protection.blocking_rules:create_observer",
    "stockade.ddos.observer:create_observer",
)
"""``module:function`` factories of log observers, called as factory(config, resources, emit)."""

EVENT_PIPELINE_FACTORY = "stockade.events.pipeline:create_event_pipeline"


def _import_optional(name: str) -> Any | None:
    # NOTE: a layer whose package is not built yet is skipped; any other import error is raised.
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name is not None and name.startswith(exc.name):
            log.debug("stage module %s is not available", name)
            return None
        raise


def build_registry() -> StageRegistry:
    registry = StageRegistry()
    for name in STAGE_MODULES:
        module = _import_optional(name)
        if module is not None and hasattr(module, "register"):
            module.register(registry)
    return registry


def load_factory(spec: str) -> Callable[..., Any] | None:
    module_name, _, attribute = spec.partition(":")
    module = _import_optional(module_name)
    if module is None:
        return None
    factory: Callable[..., Any] | None = getattr(module, attribute, None)
    return factory
