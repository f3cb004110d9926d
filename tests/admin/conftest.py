"""A real admin API server on loopback over a migrated SQLite or PostgreSQL store."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import uvicorn
from sqlalchemy.engine import Engine

from stockade.admin.app import create_admin_app
from stockade.store.operators import Role, create_operator
from stockade.store.scope import Store
from stockade.store.testing import (
    PostgresUnavailable,
    clear_tables,
    migrated_engine,
    sqlite_url,
    temporary_postgres_url,
)

STARTUP_TIMEOUT_SECONDS = 10


@dataclass
class RunningServer:
    url: str
    store: Store
    server: uvicorn.Server

    def client(self, token: str | None = None, **options: object) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=10, **options)  # type: ignore[arg-type]

    def operator(self, operator_id: str, role: Role, tenant_id: str | None = None) -> str:
        with self.store.session(None, "test-setup") as scope:
            _, token = create_operator(scope, operator_id, role, tenant_id)
        return token


def start_server(store: Store, inventory_database: str | None = None,
                 **options: object) -> tuple[uvicorn.Server, threading.Thread, int]:
    app = create_admin_app(store, inventory_database)
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning",
                            **options)  # type: ignore[arg-type]
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("admin API server did not start")
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    return server, thread, port


def stop_server(server: uvicorn.Server, thread: threading.Thread) -> None:
    server.should_exit = True
    thread.join(STARTUP_TIMEOUT_SECONDS)


@pytest.fixture(scope="session")
def postgres_engine() -> Iterator[Engine]:
    try:
        with temporary_postgres_url() as url:
            engine = migrated_engine(url)
            yield engine
            engine.dispose()
    except PostgresUnavailable as exc:
        pytest.skip(f"needs the local PostgreSQL server: {exc}")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def admin(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[RunningServer]:
    if request.param == "sqlite":
        engine = migrated_engine(sqlite_url(tmp_path))
    else:
        engine = request.getfixturevalue("postgres_engine")
        clear_tables(engine)
    store = Store(engine)
    server, thread, port = start_server(store)
    yield RunningServer(f"http://127.0.0.1:{port}", store, server)
    stop_server(server, thread)
    if request.param == "sqlite":
        engine.dispose()
