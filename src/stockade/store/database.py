"""Open the store's database and bring its schema up to date.

SQLite is the embedded default and PostgreSQL serves clusters; both go
through the same SQLAlchemy Core code. Migrations are Alembic revisions
shipped inside the package and run from here, not from an alembic.ini.
"""

from __future__ import annotations

import fcntl
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, event, func, select
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).parent / "migrations"

SQLITE_BUSY_TIMEOUT_SECONDS = 30
"""How long a SQLite writer waits for another process's lock before failing."""

DEFAULT_URL = "sqlite:///stockade.db"

MIGRATION_LOCK_KEY = 0x5354_4B44
"""PostgreSQL advisory lock id held while migrating ("STKD" in ASCII)."""


class StoreError(Exception):
    """The store cannot be opened or used as configured."""


def open_engine(url: str = DEFAULT_URL) -> Engine:
    """Create an engine for ``url``: ``sqlite:///PATH`` or ``postgresql://...``.

    A ``postgresql://`` URL uses the psycopg 3 driver.
    """
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise StoreError(f"invalid database URL {url!r}: {exc}; use sqlite:///PATH "
                         "or postgresql://USER@HOST:PORT/DB") from exc
    backend = parsed.get_backend_name()
    if backend == "postgresql":
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
        return create_engine(parsed, pool_pre_ping=True)
    if backend == "sqlite":
        engine = create_engine(
            parsed, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS})
        event.listen(engine, "connect", _configure_sqlite)
        event.listen(engine, "begin", _begin_sqlite)
        return engine
    raise StoreError(f"unsupported database {backend!r} in URL {parsed.render_as_string()!r}; "
                     "use sqlite or postgresql")


def _configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
    # The sqlite3 module would begin transactions itself, only before the first
    # write, so a SAVEPOINT before any write would commit on release. With its
    # own handling off, _begin_sqlite starts every transaction.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


@contextmanager
def _sqlite_file_lock(engine: Engine) -> Iterator[None]:
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        yield
        return
    with open(f"{database}.migrate-lock", "a") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _begin_sqlite(connection: Connection) -> None:
    # IMMEDIATE takes the write lock at once, so two writers queue on the busy
    # timeout instead of one failing when it upgrades a read lock.
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def _alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def migrate(engine: Engine, revision: str = "head") -> None:
    """Upgrade the schema to ``revision``; an empty database gets every table.

    Several processes may start at once (gateway workers, the admin API), so
    each migration holds a lock: a PostgreSQL advisory lock, or a lock file
    next to a SQLite database. The second process then finds the schema
    already at ``revision`` and changes nothing.
    """
    config = _alembic_config()
    with _sqlite_file_lock(engine), engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(select(func.pg_advisory_xact_lock(MIGRATION_LOCK_KEY)))
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
    log.info("store schema at revision %s on %s", revision, engine.url.render_as_string())


def downgrade(engine: Engine, revision: str) -> None:
    """Undo migrations down to ``revision``; ``base`` drops every store table."""
    config = _alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)
    log.warning("store schema downgraded to %s on %s", revision, engine.url.render_as_string())


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str | None:
    return ScriptDirectory.from_config(_alembic_config()).get_current_head()
