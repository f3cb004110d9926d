from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.auth.http_server import LocalAuthServer


@pytest.fixture
def auth_server() -> Iterator[LocalAuthServer]:
    server = LocalAuthServer().start()
    yield server
    server.stop()
