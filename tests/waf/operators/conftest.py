"""Fixtures for the operator tests: recording contexts and the CRS rule directory."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.waf.operators.recording import RecordingContext

CRS_RULES = Path(__file__).resolve().parents[3] / ".." / "shared" / "crs" / "v4.28.0" / "rules"


@pytest.fixture
def ctx() -> RecordingContext:
    return RecordingContext()


@pytest.fixture
def capturing() -> RecordingContext:
    return RecordingContext(capture=True)


@pytest.fixture(scope="session")
def crs_rules_dir() -> Path:
    if not CRS_RULES.is_dir():
        pytest.skip(f"the Core Rule Set is not at {CRS_RULES}; clone CRS v4.28.0 there")
    return CRS_RULES.resolve()


@pytest.fixture
def crs_rules(crs_rules_dir: Path) -> Path:
    return crs_rules_dir
