"""Rows of the database as the JSON objects the API returns."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Any

CARD_VISIBLE_DIGITS = 4
"""Digits of a card number the fixed variant shows, as receipts do."""


@dataclass(frozen=True)
class User:
    """A user row, including the columns that must never leave the server."""

    id: int
    username: str
    password_hash: str
    role: str
    is_admin: bool
    balance: float
    email: str
    full_name: str
    ssn: str
    card_number: str
    internal_notes: str
    created_at: str

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> User:
        values = {name: row[name] for name in row.keys()}
        values["is_admin"] = bool(values["is_admin"])
        return cls(**values)

    @property
    def is_privileged(self) -> bool:
        return self.role == "admin" or self.is_admin


def user_view(user: User, *, fixed: bool) -> dict[str, Any]:
    """Return the JSON object of ``user``.

    The fixed variant returns the properties that openapi.yaml declares.
    The vulnerable variant adds the secret columns (the planted excessive
    data exposure).
    """
    view: dict[str, Any] = {
        "id": user.id,
        "username": user.username,
        "email": user.email,
        "full_name": user.full_name,
        "role": user.role,
        "balance": user.balance,
        "card_last4": user.card_number[-CARD_VISIBLE_DIGITS:],
        "created_at": user.created_at,
    }
    if not fixed:
        view.update(
            password_hash=user.password_hash,
            is_admin=user.is_admin,
            ssn=user.ssn,
            card_number=user.card_number,
            internal_notes=user.internal_notes,
        )
    return view


def order_view(row: sqlite3.Row) -> dict[str, Any]:
    return {
        "id": row["id"],
        "user_id": row["user_id"],
        "product_id": row["product_id"],
        "product_name": row["product_name"],
        "quantity": row["quantity"],
        "total": row["total"],
        "status": row["status"],
        "shipping_address": row["shipping_address"],
        "created_at": row["created_at"],
    }


def product_view(row: sqlite3.Row) -> dict[str, Any]:
    return {
        "id": row["id"],
        "name": row["name"],
        "description": row["description"],
        "price": row["price"],
    }
