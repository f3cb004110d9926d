from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.gateway import GatewayProcess


@pytest.fixture
def gateway_factory(tmp_path: Path) -> Iterator[Callable[..., GatewayProcess]]:
    """Start gateways with a given config; every one is stopped after the test."""
    started: list[GatewayProcess] = []

    def start(config: dict[str, Any], workers: int = 1) -> GatewayProcess:
        folder = tmp_path / f"gateway-{len(started)}"
        folder.mkdir()
        process = GatewayProcess(config, folder, workers=workers)
        started.append(process)
        return process.start()

    yield start
    for process in started:
        process.stop()
