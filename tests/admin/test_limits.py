from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from stockade.admin.limits import MAX_BODY_BYTES
from stockade.store.scope import Store
from stockade.store.testing import migrated_engine, sqlite_url
from tests.admin.conftest import start_server, stop_server


@pytest.fixture
def url(tmp_path: Path) -> Iterator[str]:
    engine = migrated_engine(sqlite_url(tmp_path))
    server, thread, port = start_server(Store(engine))
    yield f"http://127.0.0.1:{port}"
    stop_server(server, thread)
    engine.dispose()


def test_declared_large_body_rejected(url: str) -> None:
    body = b"x" * (MAX_BODY_BYTES + 1)
    response = httpx.put(f"{url}/v1/config", content=body, timeout=30)
    assert response.status_code == 413
    assert "larger than" in response.json()["detail"]


def test_streamed_large_body_rejected(url: str) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(MAX_BODY_BYTES // (1 << 20) + 2):
            yield b"x" * (1 << 20)

    response = httpx.put(f"{url}/v1/config", content=chunks(), timeout=30)
    assert response.status_code == 413


def test_small_body_passes_to_auth(url: str) -> None:
    response = httpx.put(f"{url}/v1/config", json={}, timeout=30)
    assert response.status_code == 401


def test_docs_pages_off(url: str) -> None:
    assert httpx.get(f"{url}/docs").status_code == 404
    assert httpx.get(f"{url}/openapi.json").status_code == 200
