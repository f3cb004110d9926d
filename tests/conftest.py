from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.upstream import TestUpstream

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
"""The read-only folder beside the checkout with the CRS and reference material."""


@pytest.fixture
def upstream() -> Iterator[TestUpstream]:
    server = TestUpstream().start()
    yield server
    server.stop()
