"""The CRS regression suites (go-ftw YAML) run in-process against the engine.

Each suite must keep at least its committed pass count, and every failing
test must be listed, with a reason, in tests/waf/crs_overrides.yaml.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from stockade.gateway.routing import Resources
from stockade.waf.crs import shared_ruleset
from stockade.waf.ftw.cases import load_cases
from stockade.waf.ftw.overrides import load_overrides
from stockade.waf.ftw.runner import FAIL, PASS, CaseResult, run_cases
from stockade.waf.ftw.setup import find_install, regression_engine

CHECKOUT = Path(__file__).resolve().parents[2]
SHARED_CRS = CHECKOUT.parent / "shared" / "crs"
OVERRIDES = Path(__file__).with_name("crs_overrides.yaml")

SUITES = {
    "crs-4.28.0": (SHARED_CRS / "v4.28.0", SHARED_CRS / "v4.28.0" / "tests" / "regression"
                   / "tests"),
    "crs-3.3.4": (Path("/usr/share/modsecurity-crs"),
                  SHARED_CRS / "v3.3.4-tests" / "tests" / "regression" / "tests"),
}
MIN_PASSED = {"crs-4.28.0": 4943, "crs-3.3.4": 2370}
"""Pass counts committed with the engine; a change that lowers one is a regression."""

pytestmark = pytest.mark.crs


def _run_suite(suite: str, resources: Resources) -> list[CaseResult]:
    rules, tests = SUITES[suite]
    if not (rules / "rules").is_dir():
        pytest.skip(f"{suite} rules not found at {rules}; install the Core Rule Set there")
    if not tests.is_dir():
        pytest.skip(f"{suite} regression tests not found at {tests}")
    install = find_install(rules)
    engine = regression_engine(install, shared_ruleset(resources, install))
    return run_cases(engine, load_cases(tests))


@pytest.mark.parametrize("suite", sorted(SUITES))
def test_crs_suite_meets_committed_figures(suite: str, waf_resources: Resources) -> None:
    results = _run_suite(suite, waf_resources)
    overrides = load_overrides(OVERRIDES, suite)
    failures = [result for result in results if result.outcome == FAIL]
    unlisted = [f"{result.case.key}: {result.reason}" for result in failures
                if result.case.key not in overrides]
    passed = sum(1 for result in results if result.outcome == PASS)
    stale = sorted(key for key in overrides
                   if any(result.case.key == key and result.outcome == PASS
                          for result in results))
    assert unlisted == [], "failures missing from crs_overrides.yaml:\n" + "\n".join(unlisted)
    assert passed >= MIN_PASSED[suite], f"{suite}: {passed} pass, committed {MIN_PASSED[suite]}"
    assert stale == [], f"listed in crs_overrides.yaml but passing now: {stale}"
