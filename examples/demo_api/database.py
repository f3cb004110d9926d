"""The demo API's SQLite database: schema, reset at start, connections."""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

from demo_api.seed import seed

logger = logging.getLogger(__name__)

BUSY_TIMEOUT_SECONDS = 5.0
"""How long a connection waits for another writer before failing."""

SQL_SLEEP_MAX_SECONDS = 5.0
"""Total delay that the vulnerable variant's ``sleep()`` SQL function grants one
request, so an injected delay stays bounded however often a query calls it."""

META_TABLE = "demo_api_meta"
"""Marker table: a file without it is not a demo database and is never reset."""

SCHEMA = f"""
CREATE TABLE {META_TABLE} (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    username TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL DEFAULT 'user',
    is_admin INTEGER NOT NULL DEFAULT 0,
    balance REAL NOT NULL DEFAULT 0,
    email TEXT NOT NULL,
    full_name TEXT NOT NULL,
    ssn TEXT NOT NULL DEFAULT '',
    card_number TEXT NOT NULL DEFAULT '',
    internal_notes TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL
);
CREATE TABLE products (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    price REAL NOT NULL
);
CREATE TABLE orders (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    product_id INTEGER NOT NULL REFERENCES products(id),
    quantity INTEGER NOT NULL,
    total REAL NOT NULL,
    status TEXT NOT NULL,
    shipping_address TEXT NOT NULL,
    created_at TEXT NOT NULL
);
"""
# AUTOINCREMENT keeps ids sequential and never reuses the id of a deleted row.


class DatabaseError(Exception):
    """The database file cannot be used by the demo."""


class _SleepBudget:
    """The ``sleep(seconds)`` SQL function of the vulnerable variant.

    SQLite has no sleep function, unlike MySQL's ``SLEEP()`` or PostgreSQL's
    ``pg_sleep()``, so time-based SQL injection would otherwise depend on a
    CPU-heavy query whose duration varies by machine. This function gives
    an injected delay that is exact and repeatable, capped per request.
    """

    def __init__(self) -> None:
        self.remaining = SQL_SLEEP_MAX_SECONDS

    def sleep(self, seconds: float) -> int:
        delay = min(max(float(seconds), 0.0), self.remaining)
        self.remaining -= delay
        time.sleep(delay)
        return 0


def _is_demo_database(path: Path) -> bool:
    try:
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
            row = conn.execute(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?",
                (META_TABLE,),
            ).fetchone()
    except sqlite3.DatabaseError:
        return False
    return bool(row and row[0])


class Database:
    """Connections to one SQLite file, one kept open per thread.

    Endpoints run in a thread pool, so a thread reuses its connection from
    one request to the next instead of opening the file every time.
    """

    def __init__(self, path: Path, *, sql_sleep: bool) -> None:
        self.path = path
        self.sql_sleep = sql_sleep
        self._local = threading.local()

    def reset(self) -> None:
        """Recreate the schema and the seed data, discarding earlier changes.

        Call it before serving: connections that other threads keep open
        would go on using the replaced file. Raises DatabaseError when the
        file exists but is not a demo database, so a mistyped ``--db``
        never destroys another file.
        """
        self._close_thread_connection()
        if self.path.exists():
            if not _is_demo_database(self.path):
                raise DatabaseError(
                    f"{self.path} exists and is not a demo_api database; "
                    "pass a new path with --db or remove that file"
                )
            for suffix in ("", "-wal", "-shm"):
                Path(f"{self.path}{suffix}").unlink(missing_ok=True)
        with self.connect() as conn:
            # WAL lets readers run beside a writer; the mode stays set in the file.
            conn.execute("PRAGMA journal_mode = WAL")
            conn.executescript(SCHEMA)
            conn.execute(f"INSERT INTO {META_TABLE} VALUES ('schema', '1')")  # noqa: S608
            seed(conn)
        logger.info("database %s reset to the seed data", self.path)

    @contextmanager
    def connect(self) -> Iterator[sqlite3.Connection]:
        """Yield this thread's connection; commit on success, roll back on error."""
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_SECONDS)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA foreign_keys = ON")
            self._local.conn = conn
        if self.sql_sleep:
            # A fresh budget for every request.
            conn.create_function("sleep", 1, _SleepBudget().sleep)
        with conn:
            yield conn

    def _close_thread_connection(self) -> None:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None
