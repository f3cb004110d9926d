"""Rule evaluation: chains, flow, ctl, setvar, exclusions and disruptive actions."""

from __future__ import annotations

import pytest

from stockade.waf.seclang import SecLangError
from tests.waf.engine_helpers import engine_from, get, logged, post, run


def test_rx_match_logs_with_macros() -> None:
    engine = engine_from("""
SecRule ARGS "@rx (a+)b" "id:10,phase:1,pass,capture,t:none,msg:'hit %{TX.1}',\\
    logdata:'%{MATCHED_VAR_NAME}=%{MATCHED_VAR}'"
""")
    transaction = run(engine, get(b"/?x=zaab"))
    [match] = transaction.matches
    assert match.rule_id == 10
    assert match.msg == "hit aa"
    assert match.logdata == "ARGS:x=zaab"


def test_negated_operator_and_count() -> None:
    engine = engine_from("""
SecRule &ARGS:missing "@eq 0" "id:11,phase:1,pass"
SecRule ARGS:x "!@rx ^[0-9]+$" "id:12,phase:1,pass"
""")
    assert logged(run(engine, get(b"/?x=12"))) == [11]
    assert logged(run(engine, get(b"/?x=1a"))) == [11, 12]


def test_chain_needs_every_link() -> None:
    engine = engine_from("""
SecRule ARGS:a "@streq 1" "id:20,phase:1,pass,chain"
    SecRule ARGS:b "@streq 2" "setvar:tx.hit=1"
SecRule TX:hit "@eq 1" "id:21,phase:1,pass"
""")
    assert logged(run(engine, get(b"/?a=1&b=2"))) == [20, 21]
    assert logged(run(engine, get(b"/?a=1&b=3"))) == []


def test_setvar_runs_per_matched_value() -> None:
    engine = engine_from("""
SecRule ARGS_NAMES "@rx ." "id:30,phase:1,pass,nolog,setvar:'tx.count_%{MATCHED_VAR_NAME}=+1'"
SecRule TX:/^count_/ "@gt 1" "id:31,phase:1,pass"
""")
    transaction = run(engine, get(b"/?p=1&p=2&q=3"))
    assert logged(transaction) == [31]
    assert transaction.tx.first("count_ARGS_NAMES:p") == b"2"


def test_skip_after_marker() -> None:
    engine = engine_from("""
SecAction "id:40,phase:1,pass,nolog,skipAfter:END"
SecRule ARGS "@rx ." "id:41,phase:1,pass"
SecMarker END
SecRule ARGS "@rx ." "id:42,phase:1,pass"
""")
    assert logged(run(engine, get(b"/?a=1"))) == [42]


def test_ctl_removes_rule_and_target() -> None:
    engine = engine_from("""
SecRule ARGS:off "@streq 1" "id:50,phase:1,pass,nolog,ctl:ruleRemoveById=51-52,\\
    ctl:ruleRemoveTargetById=53;ARGS:safe"
SecRule ARGS "@rx evil" "id:51,phase:1,pass"
SecRule ARGS "@rx evil" "id:53,phase:1,pass"
""")
    assert logged(run(engine, get(b"/?x=evil&safe=evil"))) == [51, 53]
    transaction = run(engine, get(b"/?off=1&safe=evil"))
    assert logged(transaction) == []
    assert logged(run(engine, get(b"/?off=1&x=evil"))) == [53]


def test_update_target_and_remove_by_id() -> None:
    engine = engine_from("""
SecRule ARGS "@rx evil" "id:60,phase:1,pass"
SecRule ARGS "@rx evil" "id:61,phase:1,pass"
SecRuleUpdateTargetById 60 "!ARGS:comment"
SecRuleRemoveById 61
""")
    assert logged(run(engine, get(b"/?comment=evil"))) == []
    assert logged(run(engine, get(b"/?other=evil"))) == [60]


def test_deny_interrupts_and_detection_only_does_not() -> None:
    rules = 'SecRule ARGS "@rx evil" "id:70,phase:1,deny,status:418"\n'
    transaction = run(engine_from(rules), get(b"/?x=evil"))
    assert transaction.interruption is not None
    assert transaction.interruption.status == 418
    assert transaction.interruption.rule_id == 70
    detect = engine_from("SecRuleEngine DetectionOnly\n" + rules)
    transaction = run(detect, get(b"/?x=evil"))
    assert transaction.interruption is None
    assert logged(transaction) == [70]


def test_block_uses_default_action() -> None:
    engine = engine_from('SecRule ARGS "@rx evil" "id:80,phase:1,block"\n',
                         base='SecDefaultAction "phase:1,log,deny,status:403"\n')
    transaction = run(engine, get(b"/?x=evil"))
    assert transaction.interruption is not None
    assert transaction.interruption.status == 403


def test_allow_skips_remaining_rules() -> None:
    engine = engine_from("""
SecRule REQUEST_FILENAME "@streq /health" "id:90,phase:1,allow,nolog"
SecRule ARGS "@rx ." "id:91,phase:1,pass"
SecRule ARGS "@rx ." "id:92,phase:2,pass"
""")
    assert logged(run(engine, get(b"/health?a=1"))) == []
    assert logged(run(engine, get(b"/x?a=1"))) == [91, 92]


def test_transformations_applied_in_order() -> None:
    engine = engine_from(
        'SecRule ARGS "@streq <script>" "id:100,phase:1,pass,t:urlDecodeUni,t:lowercase"\n')
    assert logged(run(engine, get(b"/?a=%253CSCRIPT%253E"))) == [100]


def test_multimatch_checks_each_step() -> None:
    engine = engine_from(
        'SecRule ARGS "@streq a b" "id:110,phase:1,pass,multiMatch,t:none,t:removeWhitespace"\n')
    assert logged(run(engine, get(b"/?x=a+b"))) == [110]


def test_unknown_directive_names_file_and_line() -> None:
    with pytest.raises(SecLangError, match=r"test.conf:5: SecRuleEngne: unknown directive"):
        engine_from("SecRuleEngne On\n")


def test_rule_without_id_rejected() -> None:
    with pytest.raises(SecLangError, match="needs an id"):
        engine_from('SecRule ARGS "@rx a" "phase:1,pass"\n')


def test_duplicate_id_rejected() -> None:
    with pytest.raises(SecLangError, match="duplicate rule id 5"):
        engine_from('SecAction "id:5,phase:1,pass"\nSecAction "id:5,phase:1,pass"\n')


def test_unknown_action_rejected() -> None:
    with pytest.raises(SecLangError, match="unknown action 'bogus'"):
        engine_from('SecAction "id:5,phase:1,pass,bogus"\n')


def test_request_body_args_in_phase_two() -> None:
    engine = engine_from('SecRule ARGS_POST:name "@streq bob" "id:120,phase:2,pass"\n')
    transaction = run(engine, post(b"name=bob", b"application/x-www-form-urlencoded"))
    assert logged(transaction) == [120]


def test_unsupported_pattern_reported_and_left_out() -> None:
    engine = engine_from("""
SecRule ARGS "@rx (?<!x)a++" "id:130,phase:1,pass"
SecRule ARGS "@rx ." "id:131,phase:1,pass,chain"
    SecRule ARGS "!@rx (?=b)" "t:none"
SecRule ARGS "@rx ." "id:132,phase:1,pass"
""")
    [first, second] = engine.ruleset.diagnostics
    assert first.rule_id == 130
    assert second.rule_id == 131
    assert "test.conf" in str(first)
    assert ("rule 130: operator @rx '(?<!x)a++' cannot be used, so the rule is left out: "
            "neither hyperscan (") in str(first)
    assert str(first).count("(?<!x)a++") == 1
    assert sorted(engine.ruleset.by_id) == [132]
    assert logged(run(engine, get(b"/?q=a"))) == [132]


def test_initcol_keeps_ip_collection_between_requests() -> None:
    engine = engine_from("""
SecCollectionTimeout 60
SecAction "id:140,phase:1,pass,nolog,initcol:ip=%{REMOTE_ADDR},setvar:ip.hits=+1"
SecRule IP:hits "@ge 3" "id:141,phase:1,pass"
""")
    assert engine.store.timeout_seconds == 60
    seen = []
    for _ in range(3):
        transaction = run(engine, get(b"/"))
        transaction.process_logging()
        seen.append(logged(transaction))
    assert seen == [[], [], [141]]


def test_long_values_bypass_prefilter() -> None:
    engine = engine_from('SecRule ARGS "@rx evil$" "id:150,phase:2,pass,t:none"\n')
    body = b"q=" + b"a" * 70_000 + b"evil"
    transaction = run(engine, post(body, b"application/x-www-form-urlencoded"))
    assert logged(transaction) == [150]


def test_unknown_variable_rejected() -> None:
    with pytest.raises(SecLangError, match="unknown variable ARGZ"):
        engine_from('SecRule ARGZ "@rx a" "id:160,phase:1,pass"\n')


def test_unsupported_xpath_rejected() -> None:
    with pytest.raises(SecLangError, match="XPath '/a/b' is not supported"):
        engine_from('SecRule XML:/a/b "@rx a" "id:170,phase:2,pass"\n')
