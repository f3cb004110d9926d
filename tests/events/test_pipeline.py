"""The event pipeline with real sinks and local receivers on loopback."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from stockade.config.models import GatewayConfig
from stockade.events import metrics
from stockade.events.model import Action, SecurityEvent, Severity
from stockade.events.pipeline import EventPipeline, create_event_pipeline
from stockade.events.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify
from stockade.events.sinks.base import Delivery

FAST_RETRY = {"retry_initial_seconds": 0.02, "retry_max_seconds": 0.1}
WEBHOOK_KEY = "webhook-test-key-0123456789"
HEC_TOKEN = "11111111-2222-3333-4444-555555555555"


def _event(n: int, tenant: str = "acme", severity: Severity = Severity.HIGH) -> SecurityEvent:
    return SecurityEvent(tenant=tenant, layer="waf", kind="sqli", severity=severity,
                         action=Action.BLOCKED, message=f"event {n}", client_ip="192.0.2.1",
                         rule_ids=["942100"])


def _pipeline(tmp_path: Path, sinks: list[dict[str, Any]], **events: Any) -> EventPipeline:
    config = GatewayConfig.model_validate({
        "events": {"spool_dir": str(tmp_path / "spool"), "sinks": sinks, **events},
        "store": {"url": f"sqlite:///{tmp_path / 'store.db'}"},
    })
    return create_event_pipeline(config)


def _webhook_ids(requests: list[Any]) -> list[str]:
    return [event["id"] for request in requests for event in json.loads(request.body)["events"]]


@pytest.fixture(autouse=True)
def _secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_WEBHOOK_KEY", WEBHOOK_KEY)
    monkeypatch.setenv("TEST_HEC_TOKEN", HEC_TOKEN)


async def test_webhook_signed_batches(tmp_path: Path, http_receiver: Any) -> None:
    pipeline = _pipeline(tmp_path, [{"name": "hook", "type": "webhook", **FAST_RETRY,
                                     "url": http_receiver.url + "/hook",
                                     "secret_env": "TEST_WEBHOOK_KEY"}])
    await pipeline.start()
    events = [_event(n) for n in range(5)]
    for event in events:
        pipeline.submit(event)
    assert await pipeline.flush(10)
    await pipeline.close(5)
    assert _webhook_ids(http_receiver.requests) == [event.id for event in events]
    request = http_receiver.requests[0]
    assert request.path == "/hook"
    assert verify(WEBHOOK_KEY.encode(), request.headers[TIMESTAMP_HEADER.lower()], request.body,
                  request.headers[SIGNATURE_HEADER.lower()], now=time.time())


async def test_webhook_retries_server_errors(tmp_path: Path, http_receiver: Any) -> None:
    http_receiver.statuses = [500, 503]
    pipeline = _pipeline(tmp_path, [{"name": "hook", "type": "webhook", **FAST_RETRY,
                                     "url": http_receiver.url, "secret_env": "TEST_WEBHOOK_KEY"}])
    await pipeline.start()
    event = _event(1)
    pipeline.submit(event)
    assert await pipeline.flush(10)
    await pipeline.close(5)
    assert pipeline.stats()["hook"].failed_attempts == 2
    assert pipeline.stats()["hook"].delivered == 1
    # At least once: the failed attempts carried the event too.
    assert set(_webhook_ids(http_receiver.requests)) == {event.id}
    assert len(http_receiver.requests) == 3


async def test_webhook_down_then_back(tmp_path: Path, http_receiver: Any,
                                      wait: Callable[..., Any]) -> None:
    await http_receiver.stop()
    pipeline = _pipeline(tmp_path, [{"name": "hook", "type": "webhook", **FAST_RETRY,
                                     "url": http_receiver.url, "secret_env": "TEST_WEBHOOK_KEY"}])
    await pipeline.start()
    events = [_event(n) for n in range(50)]
    for event in events:
        pipeline.submit(event)
    await wait(lambda: pipeline.stats()["hook"].failed_attempts >= 2)
    await http_receiver.start()
    assert await pipeline.flush(10)
    await pipeline.close(5)
    received = _webhook_ids(http_receiver.requests)
    assert set(received) == {event.id for event in events}
    assert pipeline.overflow == 0


async def test_hec_down_then_back(tmp_path: Path, http_receiver: Any,
                                  wait: Callable[..., Any]) -> None:
    await http_receiver.stop()
    pipeline = _pipeline(tmp_path, [{"name": "splunk", "type": "hec", **FAST_RETRY,
                                     "url": http_receiver.url, "token_env": "TEST_HEC_TOKEN",
                                     "index": "security", "batch_size": 7}])
    await pipeline.start()
    events = [_event(n) for n in range(20)]
    for event in events:
        pipeline.submit(event)
    await wait(lambda: pipeline.stats()["splunk"].failed_attempts >= 1)
    await http_receiver.start()
    assert await pipeline.flush(10)
    await pipeline.close(5)
    records = [json.loads(line) for request in http_receiver.requests
               for line in request.body.decode().split("\n")]
    assert {record["event"]["id"] for record in records} == {event.id for event in events}
    assert all(record["index"] == "security" for record in records)
    request = http_receiver.requests[0]
    assert request.path == "/services/collector/event"
    assert request.headers["authorization"] == f"Splunk {HEC_TOKEN}"


async def test_hec_error_reply_retried(tmp_path: Path, http_receiver: Any,
                                       wait: Callable[..., Any]) -> None:
    http_receiver.reply = b'{"text":"Server is busy","code":9}'
    pipeline = _pipeline(tmp_path, [{"name": "splunk", "type": "hec", **FAST_RETRY,
                                     "url": http_receiver.url, "token_env": "TEST_HEC_TOKEN"}])
    await pipeline.start()
    pipeline.submit(_event(1))
    await wait(lambda: pipeline.stats()["splunk"].failed_attempts >= 2)
    http_receiver.reply = b'{"text":"Success","code":0}'
    assert await pipeline.flush(10)
    await pipeline.close(5)
    assert pipeline.stats()["splunk"].delivered == 1


async def test_syslog_udp(tmp_path: Path, udp_syslog: Any, wait: Callable[..., Any]) -> None:
    port, messages = udp_syslog
    pipeline = _pipeline(tmp_path, [{"name": "siem", "type": "syslog", **FAST_RETRY,
                                     "address": f"127.0.0.1:{port}", "transport": "udp"}])
    assert pipeline.workers["siem"].sink.delivery is Delivery.BEST_EFFORT
    await pipeline.start()
    events = [_event(n) for n in range(3)]
    for event in events:
        pipeline.submit(event)
    await wait(lambda: len(messages) == 3)
    await pipeline.close(5)
    for event, message in zip(events, messages, strict=True):
        text = message.decode()
        assert text.startswith("<107>1 ")
        assert f"externalId={event.id}" in text


async def test_syslog_tcp_down_then_back(tmp_path: Path, tcp_syslog: Any,
                                         wait: Callable[..., Any]) -> None:
    pipeline = _pipeline(tmp_path, [{"name": "siem", "type": "syslog", **FAST_RETRY,
                                     "address": f"127.0.0.1:{tcp_syslog.port}",
                                     "transport": "tcp"}])
    await pipeline.start()
    first = [_event(n) for n in range(5)]
    for event in first:
        pipeline.submit(event)
    await wait(lambda: len(tcp_syslog.messages) == 5)
    await tcp_syslog.stop()
    await wait(lambda: pipeline.workers["siem"].sink._reader.at_eof())  # type: ignore[attr-defined]
    second = [_event(n) for n in range(5, 30)]
    for event in second:
        pipeline.submit(event)
    await wait(lambda: pipeline.stats()["siem"].failed_attempts >= 2)
    await tcp_syslog.start()
    assert await pipeline.flush(10)
    await pipeline.close(5)
    received = [message.decode() for message in tcp_syslog.messages]
    for event in first + second:
        assert any(f"externalId={event.id}" in text for text in received), event.id


async def test_restart_delivers_spooled_events(tmp_path: Path, http_receiver: Any) -> None:
    await http_receiver.stop()
    sinks = [{"name": "hook", "type": "webhook", **FAST_RETRY, "url": http_receiver.url,
              "secret_env": "TEST_WEBHOOK_KEY"}]
    pipeline = _pipeline(tmp_path, sinks)
    await pipeline.start()
    events = [_event(n) for n in range(10)]
    for event in events:
        pipeline.submit(event)
    await pipeline.close(0.2)  # the receiver is down: the events stay spooled
    assert http_receiver.requests == []

    await http_receiver.start()
    restarted = _pipeline(tmp_path, sinks)
    await restarted.start()
    assert await restarted.flush(10)
    await restarted.close(5)
    assert set(_webhook_ids(http_receiver.requests)) == {event.id for event in events}


async def test_store_sink_exactly_once(tmp_path: Path) -> None:
    from stockade.store.database import migrate, open_engine
    from stockade.store.events import EventFilter, count_events
    from stockade.store.scope import Store

    pipeline = _pipeline(tmp_path, [{"name": "db", "type": "store", **FAST_RETRY}])
    assert pipeline.workers["db"].sink.delivery is Delivery.EXACTLY_ONCE
    await pipeline.start()
    events = [_event(n) for n in range(10)]
    for event in events + events[:4]:  # the same event handed over twice
        pipeline.submit(event)
    assert await pipeline.flush(10)
    await pipeline.close(5)
    engine = open_engine(f"sqlite:///{tmp_path / 'store.db'}")
    migrate(engine)
    with Store(engine).session(None, "test") as scope:
        assert count_events(scope, EventFilter()) == 10
    engine.dispose()


async def test_jsonl_sink_filters(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    pipeline = _pipeline(tmp_path, [{"name": "file", "type": "jsonl", "path": str(path),
                                     "tenants": ["acme"], "min_severity": "high"}])
    await pipeline.start()
    kept = _event(1)
    pipeline.submit(kept)
    pipeline.submit(_event(2, tenant="globex"))
    pipeline.submit(_event(3, severity=Severity.LOW))
    assert await pipeline.flush(10)
    await pipeline.close(5)
    lines = path.read_text().splitlines()
    assert [json.loads(line)["id"] for line in lines] == [kept.id]


async def test_full_queue_counts_overflow(tmp_path: Path) -> None:
    pipeline = _pipeline(tmp_path, [{"name": "file", "type": "jsonl",
                                     "path": str(tmp_path / "e.jsonl")}], queue_size=2)
    before = metrics.COUNTERS.value("events_dropped", "-", "queue_full")
    await pipeline.start()
    for n in range(5):
        pipeline.submit(_event(n))  # no await in between: the dispatcher cannot run
    assert pipeline.overflow == 3
    assert pipeline.submitted == 2
    assert metrics.COUNTERS.value("events_dropped", "-", "queue_full") == before + 3
    await pipeline.close(5)
    assert len((tmp_path / "e.jsonl").read_text().splitlines()) == 2


async def test_submit_after_close_counted(tmp_path: Path) -> None:
    pipeline = _pipeline(tmp_path, [])
    await pipeline.start()
    await pipeline.close(1)
    pipeline.submit(_event(1))
    assert pipeline.overflow == 1


async def test_alert_goes_to_named_sink_once(tmp_path: Path) -> None:
    pager = tmp_path / "pager.jsonl"
    archive = tmp_path / "archive.jsonl"
    pipeline = _pipeline(tmp_path, [
        {"name": "pager", "type": "jsonl", "path": str(pager), "min_severity": "critical"},
        {"name": "archive", "type": "jsonl", "path": str(archive)},
    ], alert_rules=[{"id": "burst", "tenant": "acme", "threshold": 3, "window_minutes": 10,
                     "min_severity": "high", "sink": "pager"}])
    await pipeline.start()
    for n in range(10):
        pipeline.submit(_event(n))
    assert await pipeline.flush(10)
    await pipeline.close(5)
    alerts = [json.loads(line) for line in pager.read_text().splitlines()]
    assert len(alerts) == 1
    assert alerts[0]["layer"] == "alert"
    assert alerts[0]["rule_ids"] == ["burst"]
    assert len(archive.read_text().splitlines()) == 10


async def test_metrics_record_per_tenant(tmp_path: Path) -> None:
    pipeline = _pipeline(tmp_path, [])
    counters = [("blocks", "metrics-tenant", "ratelimit"),
                ("ratelimit_rejections", "metrics-tenant"),
                ("auth_failures", "metrics-tenant"),
                ("detections", "metrics-tenant", "auth")]
    start = [metrics.COUNTERS.value(*counter) for counter in counters]
    await pipeline.start()
    pipeline.submit(SecurityEvent(tenant="metrics-tenant", layer="ratelimit", kind="limit",
                                  severity=Severity.LOW, action=Action.BLOCKED, message="m"))
    pipeline.submit(SecurityEvent(tenant="metrics-tenant", layer="auth", kind="bad-key",
                                  severity=Severity.MEDIUM, action=Action.DETECTED, message="m"))
    await pipeline.close(1)
    end = [metrics.COUNTERS.value(*counter) for counter in counters]
    assert [after - before for before, after in zip(start, end, strict=True)] == [1, 1, 1, 1]


def test_missing_secret_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TEST_WEBHOOK_KEY")
    with pytest.raises(ValueError, match="TEST_WEBHOOK_KEY"):
        _pipeline(tmp_path, [{"name": "hook", "type": "webhook", "url": "http://127.0.0.1:1",
                              "secret_env": "TEST_WEBHOOK_KEY"}])


def test_secrets_not_in_repr(tmp_path: Path) -> None:
    pipeline = _pipeline(tmp_path, [
        {"name": "hook", "type": "webhook", "url": "http://127.0.0.1:1/hooks/path-token",
         "secret_env": "TEST_WEBHOOK_KEY"},
        {"name": "splunk", "type": "hec", "url": "http://127.0.0.1:1",
         "token_env": "TEST_HEC_TOKEN"},
    ])
    text = " ".join(repr(worker.sink) for worker in pipeline.workers.values())
    assert "path-token" not in text
    assert WEBHOOK_KEY not in text
    assert HEC_TOKEN not in text


async def test_apply_config_replaces_alert_rules(tmp_path: Path,
                                                 caplog: pytest.LogCaptureFixture) -> None:
    pager = tmp_path / "pager.jsonl"
    sinks = [{"name": "pager", "type": "jsonl", "path": str(pager)}]
    pipeline = _pipeline(tmp_path, sinks)
    await pipeline.start()
    rules = [{"id": "any", "tenant": "acme", "threshold": 0, "window_minutes": 1,
              "min_severity": "info", "sink": "pager"}]
    pipeline.apply_config(GatewayConfig.model_validate(
        {"events": {"spool_dir": str(tmp_path / "spool"), "sinks": sinks,
                    "alert_rules": rules}}))
    assert "restarts" not in caplog.text
    pipeline.submit(_event(1))
    assert await pipeline.flush(10)
    pipeline.apply_config(GatewayConfig())
    assert "takes effect when the gateway restarts" in caplog.text
    await pipeline.close(5)
    kinds = [json.loads(line)["layer"] for line in pager.read_text().splitlines()]
    assert sorted(kinds) == ["alert", "waf"]


async def test_down_sink_does_not_stall_others(tmp_path: Path, http_receiver: Any,
                                               wait: Callable[..., Any]) -> None:
    await http_receiver.stop()
    archive = tmp_path / "archive.jsonl"
    pipeline = _pipeline(tmp_path, [
        {"name": "hook", "type": "webhook", **FAST_RETRY, "url": http_receiver.url,
         "secret_env": "TEST_WEBHOOK_KEY"},
        {"name": "archive", "type": "jsonl", "path": str(archive)},
    ])
    await pipeline.start()
    events = [_event(n) for n in range(200)]
    for event in events:
        pipeline.submit(event)
    await wait(lambda: pipeline.stats()["archive"].delivered == 200)
    assert len(archive.read_text().splitlines()) == 200
    assert pipeline.stats()["hook"].delivered == 0
    assert pipeline.overflow == 0
    await http_receiver.start()
    assert await pipeline.flush(10)
    await pipeline.close(5)
    assert set(_webhook_ids(http_receiver.requests)) == {event.id for event in events}


async def test_failure_log_hides_webhook_path(tmp_path: Path, http_receiver: Any,
                                              wait: Callable[..., Any],
                                              caplog: pytest.LogCaptureFixture) -> None:
    await http_receiver.stop()
    pipeline = _pipeline(tmp_path, [{"name": "hook", "type": "webhook", **FAST_RETRY,
                                     "url": http_receiver.url + "/hooks/path-token",
                                     "secret_env": "TEST_WEBHOOK_KEY"}])
    await pipeline.start()
    pipeline.submit(_event(1))
    await wait(lambda: pipeline.stats()["hook"].failed_attempts >= 1)
    await pipeline.close(0.1)
    assert "delivery of 1 events failed" in caplog.text
    assert "path-token" not in caplog.text
    assert WEBHOOK_KEY not in caplog.text
