"""build_operator, OPERATOR_NAMES and the template every operator's docstring follows."""

from __future__ import annotations

import inspect

import pytest

from stockade.waf.operators import OPERATOR_NAMES, OperatorError, build_operator
from stockade.waf.operators._registry import factory_for

EXPECTED_NAMES = {
    "rx", "pm", "pmFromFile", "pmf", "detectSQLi", "detectXSS", "streq", "contains",
    "containsWord", "beginsWith", "endsWith", "within", "eq", "ge", "gt", "le", "lt",
    "ipMatch", "ipMatchFromFile", "ipMatchF", "validateByteRange", "validateUrlEncoding",
    "validateUtf8Encoding", "unconditionalMatch", "noMatch", "strmatch",
}  # fmt: skip

SAMPLE_ARGUMENTS = {
    "pm": "a b",
    "ipMatch": "127.0.0.1",
    "validateByteRange": "32-126",
}


def test_registry_lists_every_supported_name() -> None:
    assert OPERATOR_NAMES == EXPECTED_NAMES


@pytest.mark.parametrize("spelling", ["detectSQLi", "DETECTSQLI", "detectsqli"])
def test_names_match_in_any_case(spelling: str) -> None:
    assert build_operator(spelling, "").name == "detectSQLi"


def test_unknown_operator_suggests_close_names() -> None:
    with pytest.raises(OperatorError) as caught:
        build_operator("beginWith", "x")
    assert "@beginWith" in str(caught.value)
    assert "@beginsWith" in str(caught.value)


@pytest.mark.parametrize("name", ["rbl", "geoLookup", "verifyCC", "inspectFile"])
def test_unsupported_operator_says_why(name: str) -> None:
    with pytest.raises(OperatorError, match="not supported"):
        build_operator(name, "argument")


def test_rbl_error_mentions_network() -> None:
    with pytest.raises(OperatorError, match="network"):
        build_operator("rbl", "sbl-xbl.spamhaus.org")


def test_long_argument_is_shortened_in_error() -> None:
    with pytest.raises(OperatorError) as caught:
        build_operator("rx", "(" + "a" * 5000)
    assert len(str(caught.value)) < 1000


@pytest.mark.parametrize("name", sorted(EXPECTED_NAMES))
def test_docstring_follows_template(name: str) -> None:
    factory = factory_for(name, "")
    if factory.__doc__:
        doc = factory.__doc__
    else:
        signature_return = inspect.signature(factory).return_annotation
        assert signature_return in ("Operator", "Operator | None")
        arguments = SAMPLE_ARGUMENTS.get(name, "")
        if name in ("pmFromFile", "pmf", "ipMatchFromFile", "ipMatchF"):
            pytest.fail(f"@{name} factory needs a docstring")
        doc = type(build_operator(name, arguments or "x")).__doc__ or ""
    assert "Argument:" in doc
    assert "Example:" in doc
