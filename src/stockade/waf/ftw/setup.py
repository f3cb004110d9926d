"""The engine configuration the CRS regression tests are written for."""

from __future__ import annotations

from pathlib import Path

from stockade.waf.crs import CrsInstall, compile_prelude, crs_version, load_crs
from stockade.waf.engine import Engine
from stockade.waf.ruleset import RuleSet

TEST_SETTINGS = """
SecAction "id:900005,phase:1,pass,nolog,t:none,ctl:ruleEngine=DetectionOnly,\\
    setvar:tx.{level}=4,setvar:tx.crs_validate_utf8_encoding=1,setvar:tx.arg_name_length=100,\\
    setvar:tx.arg_length=400,setvar:tx.total_arg_length=64000,setvar:tx.max_num_args=255,\\
    setvar:tx.max_file_size=64100,setvar:tx.combined_file_sizes=65535"
SecRule REQUEST_HEADERS:X-CRS-Test "@rx ^.*$" \\
    "id:999999,phase:1,pass,log,t:none,msg:'X-CRS-Test %{{MATCHED_VAR}}'"
"""
"""Paranoia level 4 so that every rule runs, detection only so that every phase
runs, and the argument limits the tests were written against."""


def find_install(rules: Path) -> CrsInstall:
    """Accept the CRS directory or its rules/ directory."""
    base = rules.parent if rules.name == "rules" else rules
    return CrsInstall(base, crs_version(base))


def regression_engine(install: CrsInstall, ruleset: RuleSet | None = None) -> Engine:
    """Build the engine the tests expect; ``ruleset`` may be one loaded from ``install``."""
    ruleset = ruleset or load_crs(install)
    level = "blocking_paranoia_level" if install.major >= 4 else "paranoia_level"
    prelude = compile_prelude(TEST_SETTINGS.format(level=level))
    return Engine(ruleset, prelude)
