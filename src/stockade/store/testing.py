"""Throw-away databases for tests and benchmarks of the store.

A PostgreSQL test database gets a unique name per run and is dropped
afterwards, so parallel runs on one server never see each other's rows.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

from stockade.store import schema
from stockade.store.database import migrate, open_engine

POSTGRES_ADMIN_URL = os.environ.get(
    "STOCKADE_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
"""Server and maintenance database used to create test databases; loopback by default."""


class PostgresUnavailable(RuntimeError):
    pass


@contextmanager
def temporary_postgres_url() -> Iterator[str]:
    """Create an empty PostgreSQL database with a unique name; drop it on exit."""
    name = f"stockade_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except OperationalError as exc:
        admin.dispose()
        raise PostgresUnavailable(
            f"PostgreSQL at {POSTGRES_ADMIN_URL} is not reachable: {exc.orig}") from exc
    url = admin.url.set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def sqlite_url(directory: Path) -> str:
    return f"sqlite:///{directory / 'stockade.db'}"


def migrated_engine(url: str) -> Engine:
    engine = open_engine(url)
    migrate(engine)
    return engine


def clear_tables(engine: Engine) -> None:
    """Delete every row of every store table, children first."""
    with engine.begin() as connection:
        for table in reversed(schema.metadata.sorted_tables):
            connection.execute(table.delete())
