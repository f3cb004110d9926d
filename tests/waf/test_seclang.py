"""SecLang lexing: directives, continuations, quoting, actions and variables."""

from __future__ import annotations

from pathlib import Path

import pytest

from stockade.waf.seclang import SecLangError, load_directives, read_directives
from stockade.waf.seclang.actions import parse_action_list
from stockade.waf.seclang.variables import parse_variables


def test_continuation_joins_lines() -> None:
    text = 'SecRule ARGS "@rx a" \\\n    "id:1,\\\n    phase:2"\n'
    [directive] = read_directives(text, "x.conf")
    assert directive.name == "SecRule"
    assert directive.args == ("ARGS", "@rx a", "id:1,    phase:2")
    assert directive.line == 1


def test_comments_and_blank_lines_skipped() -> None:
    text = "# comment\n\n  # indented\nSecRuleEngine On\n"
    [directive] = read_directives(text)
    assert directive.args == ("On",)
    assert directive.line == 4


def test_backslash_escapes_quote_and_backslash_only() -> None:
    [directive] = read_directives(r'SecRule ARGS "@rx \x5c\"a\\\\b" "id:1"')
    assert directive.args[1] == r'@rx \x5c"a\\b'


def test_unterminated_quote_names_file_and_line() -> None:
    with pytest.raises(SecLangError) as caught:
        read_directives('\nSecRule ARGS "@rx a', "rules.conf")
    assert "rules.conf:2" in str(caught.value)


def test_action_list_quoting() -> None:
    actions = parse_action_list("id:1,msg:'a, b \\' c',t:none,pass,"
                                "setvar:'tx.x=+%{tx.y}',ctl:ruleRemoveTargetById=1;ARGS:x")
    assert actions == [("id", "1"), ("msg", "a, b ' c"), ("t", "none"), ("pass", None),
                       ("setvar", "tx.x=+%{tx.y}"), ("ctl", "ruleRemoveTargetById=1;ARGS:x")]


def test_variables_with_regex_selector_containing_pipe() -> None:
    specs = parse_variables("ARGS:/^(a|b)$/|!ARGS:c|&TX:foo|XML://@*")
    assert [spec.label() for spec in specs] == ["ARGS:/^(a|b)$/", "!ARGS:c", "&TX:foo",
                                                "XML://@*"]
    assert specs[0].selects("A")
    assert not specs[0].selects("ab")
    assert specs[1].exclude
    assert specs[2].count


def test_invalid_variable_name_rejected() -> None:
    with pytest.raises(ValueError, match="invalid variable name"):
        parse_variables("AR GS")


def test_include_glob_expands_sorted(tmp_path: Path) -> None:
    (tmp_path / "b.conf").write_text("SecMarker B\n")
    (tmp_path / "a.conf").write_text("SecMarker A\n")
    (tmp_path / "main.conf").write_text("Include *.conf.d\nInclude [ab].conf\n")
    directives = load_directives(tmp_path / "main.conf")
    assert [item.args[0] for item in directives] == ["A", "B"]


def test_missing_include_names_directive(tmp_path: Path) -> None:
    (tmp_path / "main.conf").write_text("Include missing.conf\n")
    with pytest.raises(SecLangError, match=r"main.conf:1: Include: included file"):
        load_directives(tmp_path / "main.conf")
