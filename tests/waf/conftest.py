"""Fixtures shared by the WAF tests: one loaded Core Rule Set per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from stockade.gateway.routing import Resources
from stockade.waf.crs import CrsInstall, crs_version, shared_ruleset
from stockade.waf.ruleset import RuleSet

CRS_V4_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "crs" / "v4.28.0"


@pytest.fixture(scope="session")
def waf_resources() -> Resources:
    """Resources shared like one gateway worker's, so each rule set loads once."""
    return Resources()


@pytest.fixture(scope="session")
def crs_v4(waf_resources: Resources) -> tuple[CrsInstall, RuleSet]:
    if not (CRS_V4_DIR / "rules").is_dir():
        pytest.skip(f"CRS 4.28.0 not found at {CRS_V4_DIR}; the CRS tests need it there")
    install = CrsInstall(CRS_V4_DIR, crs_version(CRS_V4_DIR))
    return install, shared_ruleset(waf_resources, install)
