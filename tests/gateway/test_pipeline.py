from __future__ import annotations

import asyncio

import pytest

from stockade.config.models import Policy
from stockade.events.model import Action
from stockade.gateway.exchange import ClientInfo, Exchange
from stockade.gateway.pipeline import CONTINUE, Phase, Pipeline, Verdict, reject
from stockade.http.fields import Fields
from stockade.http.messages import BodyFraming, RequestHead


class HeaderRule:
    """Rejects requests carrying X-Bad, like a minimal WAF rule would."""

    name = "header-rule"
    layer = "waf"
    phases = frozenset({Phase.REQUEST_HEADERS})

    def __init__(self) -> None:
        self.calls = 0

    def wants_request_body(self, exchange: Exchange) -> bool:
        return False

    def wants_response_body(self, exchange: Exchange) -> bool:
        return False

    def check(self, exchange: Exchange, phase: Phase) -> Verdict:
        self.calls += 1
        if exchange.request.fields.get(b"x-bad") is not None:
            return reject(403, "bad-header", "request rejected")
        return CONTINUE


class AsyncCounter(HeaderRule):
    name = "async-counter"
    layer = "ratelimit"

    async def check(self, exchange: Exchange, phase: Phase) -> Verdict:  # type: ignore[override]
        await asyncio.sleep(0)
        self.calls += 1
        return Verdict(fields=((b"RateLimit", b"limit=10, remaining=9"),))


def exchange(bad: bool) -> Exchange:
    fields = Fields([(b"Host", b"api.test")] + ([(b"X-Bad", b"1")] if bad else []))
    head = RequestHead(b"GET", b"/", b"1.1", fields, BodyFraming.NONE)
    return Exchange("rid", ClientInfo("192.0.2.1", 1, "192.0.2.1"), head)


async def test_block_mode_returns_reject() -> None:
    pipeline = Pipeline([HeaderRule()], Policy(mode="block"))
    ex = exchange(bad=True)
    verdict = await pipeline.run(ex, Phase.REQUEST_HEADERS)
    assert verdict.reject
    assert verdict.status == 403
    assert ex.events[0].action is Action.BLOCKED
    assert ex.verdicts[0].action == "reject"


async def test_detect_mode_records_and_continues() -> None:
    stage = HeaderRule()
    later = AsyncCounter()
    pipeline = Pipeline([stage, later], Policy(mode="block", modes={"waf": "detect"}))
    ex = exchange(bad=True)
    verdict = await pipeline.run(ex, Phase.REQUEST_HEADERS)
    assert not verdict.reject
    assert ex.events[0].action is Action.DETECTED
    assert ex.events[0].layer == "waf"
    assert ex.verdicts[0].action == "detect"
    assert later.calls == 1


async def test_continue_verdict_fields_reach_response() -> None:
    pipeline = Pipeline([AsyncCounter()], Policy())
    ex = exchange(bad=False)
    verdict = await pipeline.run(ex, Phase.REQUEST_HEADERS)
    assert verdict is CONTINUE
    assert ex.response_fields_extra == [(b"RateLimit", b"limit=10, remaining=9")]


async def test_stage_runs_only_in_its_phases() -> None:
    stage = HeaderRule()
    pipeline = Pipeline([stage], Policy())
    await pipeline.run(exchange(bad=True), Phase.RESPONSE_HEADERS)
    assert stage.calls == 0
    assert not pipeline.has_phase(Phase.REQUEST_BODY)


@pytest.mark.parametrize("mode", ["block", "detect"])
async def test_clean_request_passes(mode: str) -> None:
    pipeline = Pipeline([HeaderRule()], Policy(mode=mode))  # type: ignore[arg-type]
    ex = exchange(bad=False)
    assert (await pipeline.run(ex, Phase.REQUEST_HEADERS)) is CONTINUE
    assert ex.events == []
