from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from stockade.store.scope import Store
from stockade.store.testing import (
    PostgresUnavailable,
    clear_tables,
    migrated_engine,
    sqlite_url,
    temporary_postgres_url,
)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    try:
        with temporary_postgres_url() as url:
            yield url
    except PostgresUnavailable as exc:
        pytest.skip(f"needs the local PostgreSQL server: {exc}")


@pytest.fixture(scope="session")
def postgres_engine(postgres_url: str) -> Iterator[Engine]:
    engine = migrated_engine(postgres_url)
    yield engine
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """A migrated, empty store on SQLite and on the local PostgreSQL."""
    if request.param == "sqlite":
        engine = migrated_engine(sqlite_url(tmp_path))
        yield Store(engine)
        engine.dispose()
        return
    engine = request.getfixturevalue("postgres_engine")
    clear_tables(engine)
    yield Store(engine)
