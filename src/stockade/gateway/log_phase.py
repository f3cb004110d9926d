"""The log phase of an exchange: access log, metrics, security events, log observers."""

from __future__ import annotations

import logging
import time

from stockade.gateway.accesslog import AccessLog
from stockade.gateway.exchange import Exchange
from stockade.gateway.metrics import Metrics
from stockade.gateway.runtime import Runtime

log = logging.getLogger(__name__)


def run_log_phase(access_log: AccessLog, metrics: Metrics, runtime: Runtime,
                  exchange: Exchange) -> None:
    """Record a finished exchange everywhere it is logged; an observer's error is logged."""
    exchange.finished = time.perf_counter()
    access_log.record(exchange)
    metrics.record(exchange)
    for event in exchange.events:
        runtime.emit(event)
    for observer in runtime.observers:
        try:
            observer.observe(exchange)
        except Exception:
            log.exception(
                "log observer %s failed on request %s",
                type(observer).__name__,
                exchange.request_id,
            )
