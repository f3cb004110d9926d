"""Screens, TX setup replays and skipAfter jumps give the results of evaluating every rule."""

from __future__ import annotations

import pytest

from stockade.config.models import WafPolicy
from stockade.waf.crs import CrsInstall, tenant_engine
from stockade.waf.engine import Engine
from stockade.waf.request import WafRequest, WafResponse
from stockade.waf.ruleset import RuleSet
from stockade.waf.screen import EVERY_STEP, NEGATED, ChainScreen, NumericScreen, PrefilterScreen
from stockade.waf.transaction import Transaction
from stockade.waf.tx_setup import TxSetup
from tests.waf.engine_helpers import engine_from, get, logged, post, run

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


def _run_all_phases(engine: Engine, request: WafRequest) -> Transaction:
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


def _outcomes(install: CrsInstall, ruleset: RuleSet, paranoia: int) -> list[tuple[object, ...]]:
    """Run every request twice through one engine, so the second round replays TX setups."""
    policy = WafPolicy.model_validate({"paranoia_level": paranoia})
    engine = tenant_engine(ruleset, install, policy)
    return [_outcome(_run_all_phases(engine, request)) for request in REQUESTS + REQUESTS]


@pytest.mark.parametrize("paranoia", [1, 2, 4])
def test_crs_outcomes_same_without_shortcuts(crs_v4: tuple[CrsInstall, RuleSet],
                                             paranoia: int) -> None:
    """Screens, phase plans, fixed outcomes, remembered misses, shared target lists and TX
    setup replays change nothing."""
    install, ruleset = crs_v4
    assert any(ruleset.tx_setups.values())
    assert any(plan.checks for plan in ruleset.plans.values())
    shortcut = _outcomes(install, ruleset, paranoia)
    original_screens = [rule.screen for rule in ruleset.rules]
    original_setups = ruleset.tx_setups
    try:
        for rule in ruleset.rules:
            rule.screen = None
            rule.fixed_outcome = None
            for link in rule.links():
                link.miss_slot = None
                link.targets_key = None
        ruleset.plans = {}
        ruleset.tx_setups = {phase: () for phase in original_setups}
        full = _outcomes(install, ruleset, paranoia)
    finally:
        ruleset.attach_screens()
        ruleset.tx_setups = original_setups
    assert [rule.screen for rule in ruleset.rules] == original_screens
    for request, with_shortcuts, without in zip(REQUESTS + REQUESTS, shortcut, full, strict=True):
        assert with_shortcuts == without, request.target


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


def test_plain_sets_and_chain_sets_both_decide() -> None:
    engine = engine_from("""
SecRule ARGS "@rx ^Select" "id:60,phase:2,pass,log"
SecRule ARGS "@rx ^select" "id:61,phase:2,pass,log,t:lowercase"
SecRule ARGS "@rx <script" "id:62,phase:2,pass,log,t:urlDecodeUni"
SecRule ARGS "@rx attack" "id:63,phase:2,pass,log,t:base64Decode"
SecRule ARGS "@rx ^sel" "id:64,phase:2,pass,log,t:cmdLine"
""")
    prefilter = engine.ruleset.prefilter
    assert prefilter is not None
    for rule_id in (60, 61, 62, 64):
        screen = engine.ruleset.by_id[rule_id].screen
        assert isinstance(screen, PrefilterScreen)
        assert screen.prefilter_id in prefilter.plain_halves[screen.lowercases]
    assert engine.ruleset.by_id[63].screen.prefilter_id not in set().union(*prefilter.plain_halves)
    assert logged(run(engine, get(b"/?a=Select"))) == [60, 61, 64]
    assert logged(run(engine, get(b"/?a=S%5EELECT"))) == [64]  # cmdLine drops ^
    assert logged(run(engine, get(b"/?a=%253Cscript"))) == [62]
    assert logged(run(engine, get(b"/?a=YXR0YWNr"))) == [63]
    assert logged(run(engine, get(b"/?a=plain"))) == []


SETUP_RULES = """
SecRule REQUEST_HEADERS:X-Off "@eq 1" "id:69,phase:1,pass,nolog,ctl:ruleRemoveById=72"
SecRule REQUEST_HEADERS:X-Level "@rx ^(\\d)$" "id:70,phase:1,pass,nolog,capture,\
setvar:tx.level=%{TX.1}"
SecRule &TX:level "@eq 0" "id:71,phase:1,pass,nolog,setvar:tx.level=1"
SecAction "id:72,phase:1,pass,nolog,setvar:tx.score=0"
SecRule TX:level "@ge 2" "id:73,phase:1,pass,nolog,setvar:tx.score=+%{tx.level}"
SecRule TX:score "@gt 0" "id:74,phase:1,pass,log,msg:'score %{tx.score}'"
SecRule REQUEST_HEADERS:X-Level "@rx ." "id:75,phase:1,pass,log,msg:'after %{tx.score}'"
"""


def test_tx_setup_found_and_replayed() -> None:
    engine = engine_from(SETUP_RULES)
    assert engine.ruleset.tx_setups[1] == (TxSetup(2, 4, ("level", "score")),)

    first = run(engine, get(b"/"))
    assert logged(first) == []
    assert len(engine.tx_setups) == 1
    again = run(engine, get(b"/"))
    assert logged(again) == []
    assert (again.tx.first("level"), again.tx.first("score")) == (b"1", b"0")

    raised = run(engine, get(b"/", [(b"X-Level", b"3")]))
    assert logged(raised) == [74, 75]
    assert raised.matches[0].msg == "score 3"
    assert len(engine.tx_setups) == 1  # a run that logged is not remembered
    assert logged(run(engine, get(b"/", [(b"X-Level", b"3")]))) == [74, 75]

    removed = run(engine, get(b"/", [(b"X-Off", b"1"), (b"X-Level", b"1")]))
    assert removed.tx.first("score") is None  # rule 72 removed: no replay of the full run
    assert logged(removed) == [75]


def test_tx_setup_needs_tx_only_rules() -> None:
    engine = engine_from("""
SecAction "id:80,phase:1,pass,nolog,setvar:tx.a=1"
SecAction "id:81,phase:1,pass,nolog,setvar:tx.b=%{REMOTE_ADDR}"
SecAction "id:82,phase:1,pass,nolog,setvar:tx.c=1"
SecAction "id:83,phase:1,pass,nolog,setvar:ip.d=1"
SecRule TX:/^a/ "@eq 1" "id:84,phase:1,pass,nolog,setvar:tx.e=1"
SecAction "id:85,phase:1,pass,nolog,setvar:tx.f=1"
SecAction "id:86,phase:1,pass,nolog,setvar:tx.g=%{tx.f}"
SecAction "id:87,phase:1,pass,nolog,setvar:tx.h=%{MATCHED_VAR}"
SecAction "id:88,phase:1,pass,nolog,skip:1"
SecAction "id:89,phase:1,pass,nolog,setvar:tx.i=1"
SecAction "id:90,phase:1,pass,nolog,setvar:tx.j=1"
SecAction "id:91,phase:1,pass,nolog,setvar:tx.k=1"
""")
    assert engine.ruleset.tx_setups[1] == (TxSetup(5, 3, ("f",)),)


def test_numeric_screen_reads_tx_operand() -> None:
    engine = engine_from("""
SecRule REQUEST_HEADERS:X-Score "@rx ^(\\d+)$" "id:100,phase:1,pass,nolog,capture,\
setvar:tx.score=%{TX.1}"
SecRule REQUEST_HEADERS:X-Limit "@rx ^(\\d+)$" "id:101,phase:1,pass,nolog,capture,\
setvar:tx.limit=%{TX.1}"
SecRule TX:score "@ge %{tx.limit}" "id:102,phase:1,pass,log,logdata:'%{MATCHED_VAR}'"
SecRule TX:score "@lt %{TX.Limit}" "id:103,phase:1,pass,log"
SecRule TX:score "@gt %{tx.limit} " "id:104,phase:1,pass,log"
SecRule TX:score "@lt %{tx.limit}0" "id:105,phase:1,pass,log"
""")
    for rule_id in (102, 103, 104):
        assert engine.ruleset.by_id[rule_id].screen.operand_key == "limit"
    assert engine.ruleset.by_id[105].screen is None  # more than one macro: evaluated in full
    headers = [(b"X-Score", b"7"), (b"X-Limit", b"5")]
    assert logged(run(engine, get(b"/", headers))) == [102, 104, 105]
    assert logged(run(engine, get(b"/", [(b"X-Score", b"3"), (b"X-Limit", b"5")]))) == [103, 105]
    assert logged(run(engine, get(b"/", [(b"X-Score", b"0")]))) == [102]  # no limit reads as 0


@pytest.mark.parametrize("chain", ["t:none", "t:lowercase", "t:urlDecodeUni"])
def test_value_too_long_for_sets_reaches_operator(chain: str) -> None:
    engine = engine_from(f'SecRule ARGS "@rx evil$" "id:110,phase:2,pass,log,{chain}"\n')
    body = b"q=" + b"a" * 70_000 + b"evil"
    assert logged(run(engine, post(body, b"application/x-www-form-urlencoded"))) == [110]


def test_numeric_screen_reads_several_variables() -> None:
    engine = engine_from("""
SecRule REQUEST_HEADERS:X-Flag "@rx ^(\\d+)$" "id:120,phase:1,pass,nolog,capture,\
setvar:tx.flag=%{TX.1}"
SecRule &TX:flag|TX:flag "@eq 0" "id:121,phase:1,pass,log,logdata:'%{MATCHED_VAR_NAME}'"
SecRule TX:flag|REQUEST_HEADERS:X-Other "@gt 4" "id:122,phase:1,pass,log,\
logdata:'%{MATCHED_VAR_NAME}=%{MATCHED_VAR}'"
""")
    screen = engine.ruleset.by_id[121].screen
    assert isinstance(screen, NumericScreen)
    assert [target.label for target in screen.targets] == ["&TX:flag", "TX:flag"]
    assert logged(run(engine, get(b"/"))) == [121]
    zero = run(engine, get(b"/", [(b"X-Flag", b"0")]))
    assert logged(zero) == [121]
    assert zero.matches[0].logdata == "TX:flag"
    both = run(engine, get(b"/", [(b"X-Flag", b"7"), (b"X-Other", b"9")]))
    assert logged(both) == [122]
    assert both.matches[0].logdata == "REQUEST_HEADERS:X-Other=9"


def test_negated_screen_needs_every_value_to_match() -> None:
    engine = engine_from("""
SecRule ARGS "!@rx ^[a-z]+$" "id:130,phase:2,pass,log,logdata:'%{MATCHED_VAR}'"
SecRule REQUEST_HEADERS:X-Mode "!@rx ^fast$" "id:131,phase:2,pass,log,t:lowercase"
""")
    screen = engine.ruleset.by_id[130].screen
    assert isinstance(screen, PrefilterScreen)
    assert screen.kind == NEGATED
    assert logged(run(engine, get(b"/?a=abc&b=def", [(b"X-Mode", b"FAST")]))) == []
    mixed = run(engine, get(b"/?a=abc&b=d3f", [(b"X-Mode", b"slow")]))
    assert logged(mixed) == [130, 131]
    assert mixed.matches[0].logdata == "d3f"
    assert logged(run(engine, get(b"/?a=%25abc"))) == [130]  # a value with a trigger byte
    assert logged(run(engine, get(b"/"))) == []  # no values: nothing to match


def test_multimatch_screen_sees_value_before_lowercase() -> None:
    engine = engine_from("""
SecRule ARGS "@rx ^ABC$" "id:140,phase:2,pass,log,t:lowercase,multiMatch"
SecRule ARGS "@rx ^abc$" "id:141,phase:2,pass,log,t:lowercase,multiMatch"
SecRule ARGS "@rx <x>" "id:142,phase:2,pass,log,t:urlDecodeUni,multiMatch"
""")
    for rule_id in (140, 141, 142):
        screen = engine.ruleset.by_id[rule_id].screen
        assert isinstance(screen, PrefilterScreen)
        assert screen.kind == EVERY_STEP
    assert logged(run(engine, get(b"/?a=ABC"))) == [140, 141]
    assert logged(run(engine, get(b"/?a=abc"))) == [141]
    assert logged(run(engine, get(b"/?a=%253Cx%253E"))) == [142]
    assert logged(run(engine, get(b"/?a=xyz"))) == []


def test_tx_comparison_result_follows_tx_changes() -> None:
    engine = engine_from("""
SecAction "id:1,phase:1,pass,nolog,setvar:tx.level=1"
SecRule TX:LEVEL "@lt 2" "id:2,phase:1,pass,log"
SecAction "id:3,phase:1,pass,nolog,setvar:tx.level=5"
SecRule TX:LEVEL "@lt 2" "id:4,phase:1,pass,log"
SecAction "id:5,phase:2,pass,nolog,setvar:tx.level=0"
SecRule TX:LEVEL "@lt 2" "id:6,phase:2,pass,log"
SecRule TX:LEVEL "@lt 3" "id:7,phase:2,pass,log"
""")
    screens = [engine.ruleset.by_id[rule_id].screen for rule_id in (2, 4, 6, 7)]
    assert all(isinstance(screen, NumericScreen) for screen in screens)
    keys = [screen.memo_key for screen in screens if isinstance(screen, NumericScreen)]
    assert keys[0] is not None
    assert keys[0] == keys[1] == keys[2]
    assert keys[3] != keys[0]
    assert logged(run(engine, get(b"/"))) == [2, 6, 7]


def test_comparison_of_request_data_not_remembered() -> None:
    engine = engine_from("""
SecRule REQUEST_HEADERS:Content-Length "@gt 10" "id:1,phase:1,pass,log"
SecRule TX:LEVEL|REQBODY_ERROR "@eq 0" "id:2,phase:2,pass,log"
""")
    for rule_id in (1, 2):
        screen = engine.ruleset.by_id[rule_id].screen
        assert isinstance(screen, NumericScreen)
        assert screen.memo_key is None


def test_misses_remembered_per_value() -> None:
    engine = engine_from("""
SecRule ARGS "@beginsWith attack" "id:10,phase:2,pass,log,t:lowercase,t:urlDecodeUni"
SecAction "id:11,phase:1,pass,nolog,setvar:tx.word=attack"
SecRule ARGS "@contains %{tx.word}" "id:12,phase:2,pass,log,t:lowercase"
""")
    rule = engine.ruleset.by_id[10]
    assert rule.screen is None  # so every value reaches the operator
    assert rule.miss_slot is not None
    assert engine.ruleset.by_id[12].miss_slot is None  # the argument depends on TX
    assert logged(run(engine, get(b"/?a=benign"))) == []
    assert (rule.miss_slot, b"benign") not in engine.ruleset.misses  # met once so far
    assert logged(run(engine, get(b"/?a=benign"))) == []
    assert (rule.miss_slot, b"benign") in engine.ruleset.misses
    assert logged(run(engine, get(b"/?a=ATTACK%20now&b=benign"))) == [10, 12]
    assert (rule.miss_slot, b"ATTACK now") not in engine.ruleset.misses
    assert logged(run(engine, get(b"/?a=ATTACK%20now&b=benign"))) == [10, 12]


def test_target_scan_shared_between_transactions() -> None:
    """A repeated request reuses its targets' scan, and a negated screen still decides."""
    engine = engine_from("""
SecRule ARGS "!@rx ^[a-z]+$" "id:140,phase:2,pass,log,logdata:'%{MATCHED_VAR}'"
""")
    prefilter = engine.ruleset.prefilter
    assert prefilter is not None
    for _ in range(3):
        assert logged(run(engine, get(b"/?a=abc&b=d3f"))) == [140]
        assert logged(run(engine, get(b"/?a=abc&b=def"))) == []
    assert (b"abc", b"d3f") in prefilter.shared_target_scans
    assert (b"abc", b"def") in prefilter.shared_target_scans


def _matched(transaction: Transaction) -> list[tuple[int, str]]:
    return [(match.rule_id, match.variable) for match in transaction.matches]


def test_same_targets_share_one_list() -> None:
    engine = engine_from("""
SecRule REQUEST_URI "@contains drop" "id:149,phase:1,pass,nolog,ctl:ruleRemoveTargetById=151;ARGS:a"
SecRule ARGS|!ARGS:b "@contains x" "id:150,phase:2,pass,log"
SecRule ARGS|!ARGS:b "@contains y" "id:151,phase:2,pass,log"
SecRule ARGS "@contains y" "id:152,phase:2,pass,log"
SecRule TX:a "@contains y" "id:153,phase:2,pass,log"
""")
    rules = engine.ruleset.by_id
    assert rules[150].targets_key == "ARGS|!ARGS:b"
    assert rules[151].targets_key == rules[150].targets_key
    assert rules[152].targets_key == "ARGS"
    assert rules[153].targets_key is None  # TX changes while a phase runs
    transaction = run(engine, get(b"/?a=xy&b=xy"))
    assert _matched(transaction) == [(150, "ARGS:a"), (151, "ARGS:a"), (152, "ARGS:b")]
    # A target removed from one rule by ctl leaves the other rules' shared list whole.
    transaction = run(engine, get(b"/drop?a=xy&b=xy"))
    assert _matched(transaction) == [(150, "ARGS:a"), (152, "ARGS:b")]


def test_visits_reused_across_values() -> None:
    """Requests whose values differ but hit the same patterns reuse one set of visits."""
    engine = engine_from("""
SecRule ARGS "@rx attack" "id:160,phase:2,pass,log"
SecRule ARGS "@rx ^probe" "id:161,phase:2,pass,log"
SecRule ARGS "@rx ^other" "id:162,phase:2,pass,log"
""")
    plan = engine.ruleset.plans[2]
    outcomes = [logged(run(engine, get(b"/?q=" + value)))
                for value in (b"one", b"attack1", b"two", b"attack2", b"probe3", b"attack%20probe")]
    assert outcomes == [[], [160], [], [160], [161], [160]]
    (check,) = plan.checks
    # No hit, the first pattern, the second, and the first with the mask of a
    # value that was URL-encoded.
    assert len(check.live) == 4
    assert len(plan.merged) == 2


def test_chain_screen_decides_numeric_chains() -> None:
    engine = engine_from("""
SecRule &TX:a "@eq 0" "id:170,phase:1,pass,nolog,chain,skipAfter:END"
    SecRule &TX:b "@eq 0" "chain"
    SecRule &TX:c "@eq 0"
SecAction "id:171,phase:1,pass,log"
SecMarker END
SecAction "id:172,phase:1,pass,nolog,setvar:tx.e=1"
SecRule TX:e "@eq 1" "id:173,phase:1,pass,log,chain"
    SecRule TX:f "@eq 1"
SecRule MATCHED_VAR "@streq 1" "id:174,phase:1,pass,log"
""")
    assert isinstance(engine.ruleset.by_id[170].screen, ChainScreen)
    assert isinstance(engine.ruleset.by_id[173].screen, ChainScreen)
    # 170 matches and skips 171. The first link of 173 matches and its second does
    # not, which leaves MATCHED_VAR at the first link's value, as evaluate does.
    assert logged(run(engine, get(b"/"))) == [174]


def test_multimatch_union_covers_middle_steps() -> None:
    """A triggered value of a multiMatch rule is decided from every step's set results."""
    engine = engine_from("""
SecRule ARGS "@rx ^ATTACK$" "id:180,phase:2,pass,log,t:urlDecodeUni,t:lowercase,multiMatch"
""")
    screen = engine.ruleset.by_id[180].screen
    assert isinstance(screen, PrefilterScreen)
    assert screen.kind == EVERY_STEP
    prefilter = engine.ruleset.prefilter
    assert prefilter is not None
    # Only the middle step, after urlDecodeUni and before lowercase, matches.
    for _ in range(2):  # a union is kept from the second time its values are met
        assert logged(run(engine, get(b"/?a=%2541TTACK"))) == [180]
        assert logged(run(engine, get(b"/?a=%2541TTACKS"))) == []
    assert (b"%41TTACKS",) in [values for values, _, every_step in prefilter.shared_unions
                               if every_step]


def test_combined_scans_shared_for_short_values() -> None:
    engine = engine_from("""
SecRule ARGS|REQUEST_HEADERS:User-Agent "@rx attack" "id:190,phase:2,pass,log"
""")
    prefilter = engine.ruleset.prefilter
    assert prefilter is not None
    # A combined scan is kept from the second time its target scans are met, and the
    # target scans themselves from the second time their values are.
    for _ in range(3):
        assert logged(run(engine, get(b"/?a=one", [(b"User-Agent", b"attack")]))) == [190]
        assert logged(run(engine, get(b"/?a=two", [(b"User-Agent", b"curl")]))) == []
    # Only the first request needs the rule's combined scan: the plan skips the rule
    # for the second, whose labels hit no pattern.
    assert len(prefilter.shared_combined_scans) == 1
    long_value = b"x" * 2000
    agent = [(b"User-Agent", b"attack")]
    assert logged(run(engine, get(b"/?a=" + long_value, agent))) == [190]
    assert len(prefilter.shared_combined_scans) == 1  # too long to keep


GATED_RULES = """
SecRule REQUEST_HEADERS:X-Level "@rx ^\\d$" "id:200,phase:1,nolog,capture,setvar:tx.level=%{tx.0}"
SecRule REQUEST_HEADERS:X-Drop "@streq 1" "id:201,phase:2,pass,nolog,ctl:ruleRemoveById=203"
SecRule TX:level "@lt 1" "id:202,phase:2,pass,nolog,skipAfter:END-GATED"
SecRule TX:level "@lt 2" "id:203,phase:2,pass,nolog,skipAfter:END-GATED"
SecRule REQUEST_HEADERS:Host "@rx ." "id:204,phase:2,pass,log"
SecMarker END-GATED
SecAction "id:205,phase:2,pass,log"
"""


def test_gates_folded_out_of_visits() -> None:
    engine = engine_from(GATED_RULES)
    plan = engine.ruleset.plans[2]
    assert sorted(engine.ruleset.by_phase[2][position].id for position in plan.gates) == [202, 203]
    assert plan.gate_keys == ("level",)
    for _ in range(2):
        assert logged(run(engine, get(b"/", [(b"X-Level", b"1")]))) == [205]
        assert logged(run(engine, get(b"/", [(b"X-Level", b"2")]))) == [204, 205]
        # Without TX:level the gates have no value to compare, so neither matches.
        assert logged(run(engine, get(b"/"))) == [204, 205]
    assert engine.fold_allowed(2, plan)
    # One fold per value of TX:level, from the start of the phase.
    (visits,) = plan.merged.values()  # every request has the Host header of rule 204
    assert visits.folds.keys() == {(b"1",), (b"2",), (None,)}
    assert all(folds.keys() == {0} for folds in visits.folds.values())


def test_removed_gate_stops_folding() -> None:
    engine = engine_from(GATED_RULES)
    assert logged(run(engine, get(b"/", [(b"X-Level", b"1")]))) == [205]
    # A ctl removes gate 203 after the phase folded it: the rule behind it runs.
    removed = run(engine, get(b"/", [(b"X-Level", b"1"), (b"X-Drop", b"1")]))
    assert logged(removed) == [204, 205]


def test_key_written_outside_setups_no_gate() -> None:
    engine = engine_from("""
SecRule REQUEST_HEADERS:X-Up "@streq 1" "id:210,phase:2,pass,nolog,setvar:tx.level=3"
SecRule TX:level "@lt 2" "id:211,phase:2,pass,nolog,skipAfter:END"
SecRule REQUEST_HEADERS:X-Name "@rx ^(\\w+)$" "id:212,phase:2,nolog,capture,setvar:tx.key_%{tx.1}=1"
SecRule &TX:key_a "@eq 0" "id:213,phase:2,pass,nolog,skipAfter:END"
SecRule &TX:other "@eq 0" "id:214,phase:2,pass,nolog,skipAfter:END"
SecAction "id:215,phase:2,pass,log"
SecMarker END
""")
    plan = engine.ruleset.plans[2]
    # 211 reads a key that 210 writes, and 213 one that 212 may write through its macro.
    assert [engine.ruleset.by_phase[2][position].id for position in plan.gates] == [214]
    assert logged(run(engine, get(b"/", [(b"X-Up", b"1"), (b"X-Name", b"a")]))) == []
    assert logged(run(engine, get(b"/", [(b"X-Up", b"1"), (b"X-Name", b"b")]))) == []


def test_fold_stops_inside_jumped_setup() -> None:
    """A jump into a setup run runs its rules one by one, and a gate after one that writes
    the gate's key reads the new value."""
    engine = engine_from("""
SecAction "id:219,phase:1,pass,nolog,setvar:tx.level=1"
SecRule REQUEST_HEADERS:X-Jump "@streq 1" "id:220,phase:2,pass,nolog,skipAfter:MIDDLE"
SecAction "id:221,phase:2,pass,nolog,setvar:tx.level=1"
SecAction "id:222,phase:2,pass,nolog,setvar:tx.a=1"
SecMarker MIDDLE
SecAction "id:223,phase:2,pass,nolog,setvar:tx.level=5"
SecAction "id:224,phase:2,pass,nolog,setvar:tx.b=1"
SecRule TX:level "@lt 2" "id:225,phase:2,pass,nolog,skipAfter:END"
SecAction "id:226,phase:2,pass,log"
SecMarker END
SecAction "id:227,phase:2,pass,log"
""")
    ruleset = engine.ruleset
    assert [setup.start for setup in ruleset.tx_setups[2]] == [1]
    plan = ruleset.plans[2]
    assert [ruleset.by_phase[2][position].id for position in plan.gates] == [225]
    for _ in range(2):
        assert logged(run(engine, get(b"/"))) == [226, 227]
        assert logged(run(engine, get(b"/", [(b"X-Jump", b"1")]))) == [226, 227]


def test_earlier_match_reader_stops_folding() -> None:
    engine = engine_from("""
SecAction "id:230,phase:1,pass,nolog,setvar:tx.level=1"
SecRule TX:level "@lt 2" "id:231,phase:2,pass,nolog,skipAfter:END"
SecMarker END
SecRule MATCHED_VAR "@streq 1" "id:232,phase:2,pass,log"
""")
    plan = engine.ruleset.plans[2]
    assert plan.gates
    assert not engine.fold_allowed(2, plan)
    assert logged(run(engine, get(b"/"))) == [232]  # the MATCHED_VAR gate 231 left
