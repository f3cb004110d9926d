"""Seed data loaded at every start: four users, their orders, five products.

The card numbers are the public test numbers of the card networks and the
social security numbers use area 900, which is never issued, so nothing
here belongs to a real person.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime

from demo_api.passwords import hash_password


@dataclass(frozen=True)
class SeedUser:
    username: str
    password: str
    role: str
    full_name: str
    email: str
    ssn: str
    card_number: str
    balance: float
    internal_notes: str


SEED_USERS = (
    SeedUser(
        username="alice",
        password="alice-demo-pass",  # noqa: S106 - published demo password
        role="user",
        full_name="Alice Archer",
        email="alice@example.com",
        ssn="900-00-0001",
        card_number="4111111111111111",
        balance=120.0,
        internal_notes="VIP customer; approved a refund exception",
    ),
    SeedUser(
        username="bob",
        password="bob-demo-pass",  # noqa: S106 - published demo password
        role="user",
        full_name="Bob Baker",
        email="bob@example.com",
        ssn="900-00-0002",
        card_number="5555555555554444",
        balance=40.0,
        internal_notes="chargeback filed in March",
    ),
    SeedUser(
        username="carol",
        password="carol-demo-pass",  # noqa: S106 - published demo password
        role="user",
        full_name="Carol Cole",
        email="carol@example.com",
        ssn="900-00-0003",
        card_number="378282246310005",
        balance=75.5,
        internal_notes="",
    ),
    SeedUser(
        username="admin",
        password="admin-demo-pass",  # noqa: S106 - published demo password
        role="admin",
        full_name="Site Admin",
        email="admin@example.com",
        ssn="900-00-0004",
        card_number="4000056655665556",
        balance=0.0,
        internal_notes="break-glass account",
    ),
)
"""Users with ids 1 to 4 in this order."""

DEMO_PASSWORDS = {user.username: user.password for user in SEED_USERS}
"""Login password of each seeded username, the same in both variants."""

SEED_PRODUCTS = (
    ("Blue widget", "A small blue widget", 9.99),
    ("Red widget", "A small red widget", 10.49),
    ("Gadget", "A multi-purpose gadget", 24.00),
    ("Sprocket", "A steel sprocket, 32 teeth", 3.75),
    ("Gizmo", "A gizmo with a blinking light", 49.90),
)
"""Products with ids 1 to 5 in this order."""

SEED_ORDERS = (
    ("alice", 1, 2, "1 Archer Road, Springfield"),
    ("alice", 3, 1, "1 Archer Road, Springfield"),
    ("bob", 2, 5, "2 Baker Street, Shelbyville"),
    ("bob", 5, 1, "2 Baker Street, Shelbyville"),
    ("carol", 4, 10, "3 Cole Lane, Ogdenville"),
)
"""Orders with ids 1 to 5: (username, product id, quantity, shipping address)."""


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def seed(conn: sqlite3.Connection) -> None:
    """Insert the seed users, products and orders into an empty schema."""
    now = utc_now()
    for user in SEED_USERS:
        conn.execute(
            "INSERT INTO users (username, password_hash, role, is_admin, balance, email,"
            " full_name, ssn, card_number, internal_notes, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                user.username,
                hash_password(user.password),
                user.role,
                int(user.role == "admin"),
                user.balance,
                user.email,
                user.full_name,
                user.ssn,
                user.card_number,
                user.internal_notes,
                now,
            ),
        )
    conn.executemany(
        "INSERT INTO products (name, description, price) VALUES (?, ?, ?)", SEED_PRODUCTS
    )
    for username, product_id, quantity, address in SEED_ORDERS:
        conn.execute(
            "INSERT INTO orders (user_id, product_id, quantity, total, status,"
            " shipping_address, created_at)"
            " SELECT users.id, products.id, ?, round(products.price * ?, 2), 'shipped', ?, ?"
            " FROM users, products WHERE users.username = ? AND products.id = ?",
            (quantity, quantity, address, now, username, product_id),
        )
