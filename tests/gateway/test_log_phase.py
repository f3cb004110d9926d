from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from stockade.config.models import AccessLog as AccessLogSettings
from stockade.config.models import GatewayConfig
from stockade.events.model import SecurityEvent
from stockade.gateway.accesslog import AccessLog
from stockade.gateway.exchange import ClientInfo, Exchange
from stockade.gateway.log_phase import run_log_phase
from stockade.gateway.metrics import Metrics
from stockade.gateway.runtime import Runtime
from stockade.http.fields import Fields
from stockade.http.messages import BodyFraming, RequestHead


class Observer:
    """A log observer that records the request id of each exchange, or raises on each."""

    def __init__(self, fails: bool) -> None:
        self.fails = fails
        self.seen: list[str] = []

    def observe(self, exchange: Exchange) -> None:
        if self.fails:
            raise RuntimeError("observer broke")
        self.seen.append(exchange.request_id)


def new_exchange() -> Exchange:
    head = RequestHead(b"GET", b"/items/1", b"1.1", Fields([(b"Host", b"api.test")]),
                       BodyFraming.NONE, authority=b"api.test")
    exchange = Exchange("request-1", ClientInfo("127.0.0.1", 1, "127.0.0.1"), head)
    exchange.status = 200
    exchange.events.append(exchange.event("waf", "rule", "a detection"))
    return exchange


def test_log_phase_records_everywhere(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    emitted: list[SecurityEvent] = []
    runtime = Runtime.build(GatewayConfig(), emit=emitted.append)
    failing, working = Observer(fails=True), Observer(fails=False)
    runtime.observers = [failing, working]
    access_log = AccessLog(AccessLogSettings(path=str(tmp_path / "access.log")))
    metrics = Metrics()
    exchange = new_exchange()

    async def log_one() -> None:
        run_log_phase(access_log, metrics, runtime, exchange)
        access_log.close()

    asyncio.run(log_one())
    assert exchange.finished is not None
    line = json.loads((tmp_path / "access.log").read_text())
    assert line["request_id"] == "request-1"
    assert metrics.counters["requests"][("-", "-", "200")] == 1
    assert [event.message for event in emitted] == ["a detection"]
    assert working.seen == ["request-1"]  # a failing observer does not stop the next one
    assert "log observer Observer failed on request request-1" in caplog.text
