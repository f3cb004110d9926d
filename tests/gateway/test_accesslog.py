from __future__ import annotations

import asyncio
import json
import random
from pathlib import Path

import pytest

from stockade.config.models import AccessLog as AccessLogSettings
from stockade.config.models import Policy, Route, Service, Tenant, Upstream
from stockade.gateway.accesslog import (
    FLUSH_INTERVAL,
    FLUSH_LINES,
    AccessLog,
    _milli_text,
    access_line,
    access_record,
)
from stockade.gateway.exchange import ClientInfo, Consumer, Exchange, VerdictRecord
from stockade.gateway.pipeline import Pipeline
from stockade.gateway.routing import RouteMatch
from stockade.http.fields import Fields
from stockade.http.messages import BodyFraming, RequestHead

HOSTILE_TEXT = [
    'quote " backslash \\ slash /',
    "control \x00\x01\x1f\t\r\n\x7f",
    "latin-1 \xe9\xff and beyond \u2028\u2029 \U0001f600",
    "</script><!--",
    "",
]


def exchange_with(text: str, raw: bytes) -> Exchange:
    head = RequestHead(
        method=b"GET",
        target=b"/items/" + raw + b"?q=" + raw,
        version=b"1.1",
        fields=Fields([(b"Host", b"api.test")]),
        framing=BodyFraming.NONE,
        authority=b"api.test:" + raw,
    )
    return Exchange(
        request_id=text,
        client=ClientInfo(address=text, port=1, peer_address="127.0.0.1"),
        request=head,
    )


def routed(exchange: Exchange) -> None:
    tenant = Tenant(id="t1")
    service = Service(id="s1", hosts=["api.test"], upstream=Upstream(targets=["127.0.0.1:9"]))
    route = Route(id="r1", path="/items/{itemId}")
    policy = Policy()
    exchange.match = RouteMatch(tenant, service, route, Pipeline([], policy), {}, policy)


@pytest.mark.parametrize("text", HOSTILE_TEXT)
def test_access_line_equals_json_dumps(text: str) -> None:
    raw = text.encode("utf-8", "replace")[:40]
    exchange = exchange_with(text, raw)
    exchange.status = 502
    exchange.finished = exchange.started + 0.0123456
    exchange.upstream_target = text
    exchange.consumer = Consumer(id=text, tenant="t1")
    line = access_line(exchange)
    assert line == json.dumps(access_record(exchange), separators=(",", ":"))
    assert json.loads(line)["path"] == access_record(exchange)["path"]


def test_access_line_routed_with_verdicts() -> None:
    exchange = exchange_with("id-1", b"42")
    routed(exchange)
    exchange.status = 403
    exchange.request_bytes = 12
    exchange.response_bytes = 345
    exchange.upstream_seconds = 0.0021
    exchange.upstream_connect_seconds = 0.0004
    exchange.finished = exchange.started + 0.003
    exchange.verdicts.append(VerdictRecord("waf", "reject", 403, 'rule "942100"\n'))
    line = access_line(exchange)
    assert line == json.dumps(access_record(exchange), separators=(",", ":"))
    record = json.loads(line)
    assert (record["tenant"], record["service"], record["route"]) == ("t1", "s1", "r1")
    assert record["verdicts"][0]["reason"] == 'rule "942100"\n'
    assert record["upstream_connect_ms"] == 0.4


def test_access_line_unmatched_writes_nulls() -> None:
    exchange = exchange_with("id-2", b"x")
    exchange.finished = exchange.started
    record = json.loads(access_line(exchange))
    assert record["tenant"] is None
    assert record["upstream"] is None
    assert record["consumer"] is None
    assert record["upstream_ms"] is None
    assert "upstream_connect_ms" not in record


def test_flushed_lines_equal_access_line(tmp_path: Path) -> None:
    exchanges = [exchange_with(text, b"x") for text in ("first", "second")]
    routed(exchanges[1])
    for exchange in exchanges:
        exchange.finished = exchange.started + 0.002
    access_log = AccessLog(AccessLogSettings(path=str(tmp_path / "access.log")))

    async def record_all() -> None:
        for exchange in exchanges:
            access_log.record(exchange)
        access_log.close()

    asyncio.run(record_all())
    lines = (tmp_path / "access.log").read_text().splitlines()
    assert lines == [access_line(exchange) for exchange in exchanges]


class FailingFile:
    """A file whose writes fail, as on a full disk."""

    def write(self, text: str) -> int:
        raise OSError(28, "No space left on device")

    def flush(self) -> None:
        raise OSError(28, "No space left on device")


def test_unwritable_log_keeps_newest_lines(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                           caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr("stockade.gateway.accesslog.MAX_PENDING_LINES", 3)
    access_log = AccessLog(AccessLogSettings(path=str(tmp_path / "access.log")))
    assert access_log._file is not None
    access_log._file.close()
    access_log._file = FailingFile()  # type: ignore[assignment]
    exchanges = [exchange_with(f"request-{number}", b"x") for number in range(5)]

    async def record_all() -> None:
        for exchange in exchanges:
            access_log.record(exchange)
        access_log.flush()

    asyncio.run(record_all())
    assert "cannot write the access log" in caplog.text
    assert access_log.dropped == 2
    written = tmp_path / "access.log"
    access_log._file = open(written, "a", encoding="utf-8")  # the disk has space again
    access_log.close()
    lines = written.read_text().splitlines()
    assert [json.loads(line)["request_id"] for line in lines] == [
        "request-2", "request-3", "request-4"]


def test_full_batch_flushes_before_timer(tmp_path: Path) -> None:
    path = tmp_path / "access.log"
    access_log = AccessLog(AccessLogSettings(path=str(path)))
    exchanges = [exchange_with(f"request-{number}", b"x") for number in range(FLUSH_LINES + 1)]
    written: list[int] = []

    async def record_all() -> None:
        for exchange in exchanges[:-1]:
            access_log.record(exchange)
        assert not path.read_text()  # nothing is written between the steps of an exchange
        await asyncio.sleep(0)
        written.append(len(path.read_text().splitlines()))
        access_log.record(exchanges[-1])
        await asyncio.sleep(0)
        written.append(len(path.read_text().splitlines()))  # one line waits for the timer
        await asyncio.sleep(FLUSH_INTERVAL * 1.5)
        written.append(len(path.read_text().splitlines()))
        access_log.close()

    asyncio.run(record_all())
    assert written == [FLUSH_LINES, FLUSH_LINES, FLUSH_LINES + 1]


def test_failed_write_waits_for_timer(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    access_log = AccessLog(AccessLogSettings(path=str(tmp_path / "access.log")))
    assert access_log._file is not None
    access_log._file.close()
    access_log._file = FailingFile()  # type: ignore[assignment]

    async def record_all() -> None:
        for number in range(FLUSH_LINES * 3):
            access_log.record(exchange_with(f"request-{number}", b"x"))
            await asyncio.sleep(0)
        access_log._file = None  # the test ends here; close() has nothing to write to

    asyncio.run(record_all())
    assert caplog.text.count("cannot write the access log") == 1
    assert len(access_log._pending) == FLUSH_LINES * 3


def test_milli_text_matches_repr_round() -> None:
    rng = random.Random(20261205)
    values = [0.0, -0.0, 0.0004, 0.0005, 0.0015, 1.0005, 2.675, 0.1, 1e11 + 0.0005, 1e12, 1e20,
              -2.5, float("inf"), 1733400000.1234]
    values += [rng.random() * 10 ** rng.randint(-5, 13) for _ in range(20000)]
    halfway = [0.0, 0.0005, -0.0005]
    values += [rng.randint(0, 10**6) / 1000 + rng.choice(halfway) for _ in range(5000)]
    for value in values:
        assert _milli_text(value) == repr(round(value, 3)), value
