"""The database behind discovery: engine set-up shared by the inventory and finding stores."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, MetaData, create_engine, event
from sqlalchemy.engine import Connection

metadata = MetaData()

SQLITE_BUSY_TIMEOUT_SECONDS = 30.0
"""How long a writer waits for another worker's transaction on the same SQLite file."""


class StoreError(RuntimeError):
    """The inventory database could not be opened or written."""


def engine_for(database: str) -> Engine:
    if "://" in database:
        return create_engine(database)
    path = Path(database).expanduser().resolve()
    if not path.parent.is_dir():
        raise StoreError(
            f"discovery database directory {path.parent} does not exist; create it "
            "or set discovery.database to another path"
        )
    engine = create_engine(
        f"sqlite:///{path}", connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS}
    )

    # pysqlite opens transactions lazily; take the write lock at BEGIN so that a
    # read-merge-write by one worker cannot interleave with another's.
    @event.listens_for(engine, "connect")
    def _manual_transactions(connection: Any, _record: Any) -> None:
        connection.isolation_level = None

    @event.listens_for(engine, "begin")
    def _begin_immediate(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine
