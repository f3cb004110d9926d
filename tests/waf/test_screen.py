"""Screens and skipAfter jumps give the same results as evaluating every rule."""

from __future__ import annotations

import pytest

from stockade.config.models import WafPolicy
from stockade.waf.crs import CrsInstall, tenant_engine
from stockade.waf.request import WafRequest, WafResponse
from stockade.waf.ruleset import RuleSet
from stockade.waf.screen import NumericScreen, PrefilterScreen, attach_screens
from stockade.waf.transaction import Transaction
from tests.waf.engine_helpers import engine_from, get, logged, run

HOST = (b"Host", b"api.example.test")
JSON = (b"Content-Type", b"application/json")

REQUESTS = [
    WafRequest(b"GET", b"/api/items/42?page=2", headers=[HOST, (b"Accept", b"*/*")]),
    WafRequest(b"GET", b"/api/items?q=1%27%20OR%201=1--", headers=[HOST]),
    WafRequest(b"GET", b"/search?q=<script>alert(1)</script>", headers=[HOST]),
    WafRequest(b"GET", b"/files?name=../../etc/passwd", headers=[HOST]),
    WafRequest(b"GET", b"/run?cmd=;cat%20/etc/passwd", headers=[HOST]),
    WafRequest(b"GET", b"/", headers=[HOST, (b"User-Agent", b"sqlmap/1.7")]),
    WafRequest(b"GET", b"/", headers=[HOST, (b"Cookie", b"session=abc; pref=union select 1")]),
    WafRequest(b"POST", b"/api/items", headers=[HOST, JSON, (b"Content-Length", b"40")],
               body=b'{"name": "pen", "note": "1 OR 1=1 --"}'),
    WafRequest(b"POST", b"/api/items", headers=[HOST, JSON, (b"Content-Length", b"18")],
               body=b'{"name": "pencil"}'),
    WafRequest(b"GET", b"/", headers=[HOST, (b"Content-Type", b"text/plain; charset=utf-7")]),
]


def _run_all_phases(install: CrsInstall, ruleset: RuleSet, request: WafRequest,
                    paranoia: int) -> Transaction:
    policy = WafPolicy.model_validate({"paranoia_level": paranoia})
    engine = tenant_engine(ruleset, install, policy)
    copy = WafRequest(request.method, request.target, headers=list(request.headers),
                      body=request.body)
    transaction = engine.transaction(copy)
    transaction.process_request_headers()
    transaction.process_request_body()
    transaction.process_response_headers(WafResponse(200, [JSON]))
    transaction.process_response_body()
    transaction.process_logging()
    return transaction


def _outcome(transaction: Transaction) -> tuple[object, ...]:
    interruption = transaction.interruption
    return (
        [(match.rule_id, match.phase, match.variable, match.data, match.logdata)
         for match in transaction.matches],
        (interruption.rule_id, interruption.status) if interruption else None,
        sorted((key, value) for key, value in transaction.tx.snapshot().items()
               if key != "unique_id"),
    )


@pytest.mark.parametrize("paranoia", [1, 2, 4])
def test_crs_outcomes_same_without_screens(crs_v4: tuple[CrsInstall, RuleSet],
                                            paranoia: int) -> None:
    install, ruleset = crs_v4
    screened = [_outcome(_run_all_phases(install, ruleset, request, paranoia))
                for request in REQUESTS]
    original_screens = [rule.screen for rule in ruleset.rules]
    try:
        for rule in ruleset.rules:
            rule.screen = None
        unscreened = [_outcome(_run_all_phases(install, ruleset, request, paranoia))
                      for request in REQUESTS]
    finally:
        attach_screens(ruleset.rules)
    assert [rule.screen for rule in ruleset.rules] == original_screens
    for request, with_screens, without in zip(REQUESTS, screened, unscreened, strict=True):
        assert with_screens == without, request.target


def test_crs_rules_mostly_screened(crs_v4: tuple[CrsInstall, RuleSet]) -> None:
    _, ruleset = crs_v4
    screens = [rule.screen for rule in ruleset.rules if rule.screen is not None]
    assert sum(isinstance(screen, PrefilterScreen) for screen in screens) > 200
    assert sum(isinstance(screen, NumericScreen) for screen in screens) > 100


def test_tx_compare_screen_decides_match() -> None:
    engine = engine_from("""
SecAction "id:1,phase:1,pass,nolog,setvar:tx.level=2"
SecRule TX:LEVEL "@lt 3" "id:2,phase:1,pass,log,msg:'level %{MATCHED_VAR} from %{MATCHED_VAR_NAME}'"
SecRule TX:LEVEL "@gt 3" "id:3,phase:1,pass,log"
SecRule &TX:MISSING "@eq 0" "id:4,phase:1,pass,log,logdata:'%{MATCHED_VAR_NAME}=%{MATCHED_VAR}'"
""")
    assert isinstance(engine.ruleset.by_id[2].screen, NumericScreen)
    transaction = run(engine, get(b"/"))
    assert logged(transaction) == [2, 4]
    assert transaction.matches[0].msg == "level 2 from TX:LEVEL"
    assert transaction.matches[1].logdata == "&TX:MISSING=0"


def test_rx_screen_skips_and_keeps() -> None:
    engine = engine_from("""
SecRule ARGS "@rx ^attack" "id:10,phase:2,pass,log,t:lowercase"
SecRule ARGS "@rx ^benign" "id:11,phase:2,pass,log,t:lowercase"
SecRule ARGS "@pm shell exec" "id:12,phase:2,pass,log,t:lowercase"
""")
    assert isinstance(engine.ruleset.by_id[10].screen, PrefilterScreen)
    assert isinstance(engine.ruleset.by_id[12].screen, PrefilterScreen)
    assert logged(run(engine, get(b"/?a=ATTACK"))) == [10]
    assert logged(run(engine, get(b"/?a=Benign&b=remote%20EXEC"))) == [11, 12]
    assert logged(run(engine, get(b"/?a=nothing"))) == []


def test_rx_screen_sees_changed_body_processor() -> None:
    engine = engine_from("""
SecRule REQBODY_PROCESSOR "@rx ^JSON$" "id:20,phase:1,pass,log"
SecAction "id:21,phase:1,pass,nolog,ctl:requestBodyProcessor=JSON"
SecRule REQBODY_PROCESSOR "@rx ^JSON$" "id:22,phase:1,pass,log"
""")
    assert isinstance(engine.ruleset.by_id[22].screen, PrefilterScreen)
    assert logged(run(engine, get(b"/"))) == [22]


def test_skip_after_jumps_to_marker() -> None:
    engine = engine_from("""
SecAction "id:30,phase:1,pass,nolog,skipAfter:END"
SecAction "id:31,phase:1,pass,log"
SecMarker END
SecAction "id:32,phase:1,pass,log"
SecAction "id:33,phase:1,pass,nolog,skipAfter:35"
SecAction "id:34,phase:1,pass,log"
SecAction "id:35,phase:1,pass,log"
SecAction "id:36,phase:1,pass,log"
SecAction "id:37,phase:1,pass,nolog,skipAfter:NOWHERE"
SecAction "id:38,phase:1,pass,log"
SecAction "id:39,phase:2,pass,log"
""")
    assert logged(run(engine, get(b"/"))) == [32, 36, 39]


def test_skip_after_lands_on_next_marker_only() -> None:
    engine = engine_from("""
SecMarker AGAIN
SecAction "id:40,phase:1,pass,log"
SecAction "id:41,phase:1,pass,nolog,skipAfter:AGAIN"
SecAction "id:42,phase:1,pass,log"
SecMarker AGAIN
SecAction "id:43,phase:1,pass,log"
""")
    assert logged(run(engine, get(b"/"))) == [40, 43]


def test_numeric_screen_reads_scalars_and_headers() -> None:
    engine = engine_from("""
SecRule REQBODY_ERROR "@eq 0" "id:50,phase:1,pass,log,logdata:'%{MATCHED_VAR_NAME}'"
SecRule REQUEST_HEADERS:X-Count "@gt 5" "id:51,phase:1,pass,log,logdata:'%{MATCHED_VAR}'"
SecRule &REQUEST_HEADERS:X-Count "@eq 2" "id:52,phase:1,pass,log,logdata:'%{MATCHED_VAR}'"
SecRule &REQUEST_HEADERS:Host "@eq 0" "id:53,phase:1,pass,log"
""")
    for rule_id in (50, 51, 52, 53):
        assert isinstance(engine.ruleset.by_id[rule_id].screen, NumericScreen)
    transaction = run(engine, get(b"/", [(b"X-Count", b"9"), (b"X-Count", b"7")]))
    assert logged(transaction) == [50, 51, 52]
    assert transaction.matches[0].logdata == "REQBODY_ERROR"
    assert transaction.matches[1].logdata == "7"
    assert transaction.matches[2].logdata == "2"
    assert logged(run(engine, get(b"/", [(b"X-Count", b"1")]))) == [50]
