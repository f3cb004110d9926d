from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import inspect

from stockade.store import schema
from stockade.store.database import (
    StoreError,
    current_revision,
    downgrade,
    head_revision,
    migrate,
    open_engine,
)
from stockade.store.testing import PostgresUnavailable, sqlite_url, temporary_postgres_url


def _check_migration_from_empty(url: str) -> None:
    engine = open_engine(url)
    try:
        assert current_revision(engine) is None
        migrate(engine)
        assert current_revision(engine) == head_revision()
        tables = set(inspect(engine).get_table_names())
        assert set(schema.metadata.tables) <= tables
        migrate(engine)  # a second run is a no-op
        assert current_revision(engine) == head_revision()
        downgrade(engine, "base")
        assert set(schema.metadata.tables).isdisjoint(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_migrate_empty_sqlite(tmp_path: Path) -> None:
    _check_migration_from_empty(sqlite_url(tmp_path))


@pytest.mark.postgres
def test_migrate_empty_postgres() -> None:
    try:
        with temporary_postgres_url() as url:
            _check_migration_from_empty(url)
    except PostgresUnavailable as exc:
        pytest.skip(str(exc))


def test_migrated_schema_matches_tables(tmp_path: Path) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    engine = open_engine(sqlite_url(tmp_path))
    migrate(engine)
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), schema.metadata)
    engine.dispose()
    assert differences == []


@pytest.mark.parametrize("url", ["mysql://localhost/x", "not a url"])
def test_open_engine_rejects_unsupported(url: str) -> None:
    with pytest.raises(StoreError, match="sqlite"):
        open_engine(url)


def _migrate_concurrently(url: str, processes: int = 4) -> None:
    """Start several processes that migrate the same empty database at once."""
    import subprocess
    import sys

    code = ("import sys; from stockade.store.database import migrate, open_engine; "
            "migrate(open_engine(sys.argv[1]))")
    running = [subprocess.Popen([sys.executable, "-c", code, url], stderr=subprocess.PIPE)
               for _ in range(processes)]
    for process in running:
        _, stderr = process.communicate(timeout=120)
        assert process.returncode == 0, stderr.decode()
    engine = open_engine(url)
    assert current_revision(engine) == head_revision()
    engine.dispose()


def test_concurrent_migrations_sqlite(tmp_path: Path) -> None:
    _migrate_concurrently(sqlite_url(tmp_path))


@pytest.mark.postgres
def test_concurrent_migrations_postgres() -> None:
    try:
        with temporary_postgres_url() as url:
            _migrate_concurrently(url)
    except PostgresUnavailable as exc:
        pytest.skip(str(exc))
