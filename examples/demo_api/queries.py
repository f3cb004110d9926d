"""Parameterized reads of users and orders shared by several routes."""

from __future__ import annotations

import sqlite3

from demo_api.views import User

ORDER_COLUMNS = (
    "SELECT orders.*, products.name AS product_name"
    " FROM orders JOIN products ON products.id = orders.product_id"
)


def load_user(conn: sqlite3.Connection, user_id: int) -> User | None:
    row = conn.execute("SELECT * FROM users WHERE id = ?", (user_id,)).fetchone()
    return None if row is None else User.from_row(row)


def find_user(conn: sqlite3.Connection, username: str) -> User | None:
    row = conn.execute("SELECT * FROM users WHERE username = ?", (username,)).fetchone()
    return None if row is None else User.from_row(row)


def all_users(conn: sqlite3.Connection) -> list[User]:
    return [User.from_row(row) for row in conn.execute("SELECT * FROM users ORDER BY id")]


def load_order(conn: sqlite3.Connection, order_id: int) -> sqlite3.Row | None:
    row: sqlite3.Row | None = conn.execute(
        f"{ORDER_COLUMNS} WHERE orders.id = ?", (order_id,)
    ).fetchone()
    return row


def orders_of(conn: sqlite3.Connection, user_id: int) -> list[sqlite3.Row]:
    return conn.execute(
        f"{ORDER_COLUMNS} WHERE orders.user_id = ? ORDER BY orders.id",
        (user_id,),
    ).fetchall()
