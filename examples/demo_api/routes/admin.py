"""Admin operations under /api/v2/admin."""

import sqlite3
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException

from demo_api.auth import require_admin, user_dependency
from demo_api.context import AppContext
from demo_api.inputs import json_object_reader, optional_str, reject_unknown
from demo_api.passwords import hash_password
from demo_api.queries import all_users, load_user
from demo_api.seed import utc_now
from demo_api.views import User, user_view

ROLES = ("user", "admin")
NEW_USER_FIELDS = {"username": 64, "password": 256, "email": 254, "full_name": 200, "role": 5}
"""Properties of POST /api/v2/admin/users with their maximum length."""


def build_router(context: AppContext) -> APIRouter:
    router = APIRouter()
    current_user = user_dependency(context)
    read_body = json_object_reader(fixed=context.fixed)

    @router.get("/api/v2/admin/users")
    def list_users(caller: Annotated[User, Depends(current_user)]) -> list[dict[str, Any]]:
        require_admin(context, caller)
        with context.database.connect() as conn:
            return [user_view(user, fixed=context.fixed) for user in all_users(conn)]

    @router.post("/api/v2/admin/users", status_code=201)
    def create_user(
        caller: Annotated[User, Depends(current_user)],
        body: Annotated[dict[str, Any], Depends(read_body)],
    ) -> dict[str, Any]:
        require_admin(context, caller)
        if context.fixed:
            reject_unknown(body, NEW_USER_FIELDS)
        return _create_user(context, body)

    if context.fixed:

        @router.get("/api/v2/admin/stats")
        def read_stats(caller: Annotated[User, Depends(current_user)]) -> dict[str, Any]:
            require_admin(context, caller)
            return _stats(context)

    else:

        @router.get("/api/v2/admin/stats")
        def read_stats_unauthenticated() -> dict[str, Any]:
            # Planted: an admin route that checks no credentials at all.
            return _stats(context)

    return router


def _create_user(context: AppContext, body: dict[str, Any]) -> dict[str, Any]:
    values: dict[str, str] = {}
    for name, max_length in NEW_USER_FIELDS.items():
        value = optional_str(body, name, max_length)
        if value is None and name != "role":
            raise HTTPException(400, f"property {name!r} is required")
        values[name] = value or "user"
    if values["role"] not in ROLES:
        raise HTTPException(400, f"role must be one of {', '.join(ROLES)}, got {values['role']!r}")
    try:
        with context.database.connect() as conn:
            cursor = conn.execute(
                "INSERT INTO users (username, password_hash, role, is_admin, email, full_name,"
                " created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    values["username"],
                    hash_password(values["password"]),
                    values["role"],
                    int(values["role"] == "admin"),
                    values["email"],
                    values["full_name"],
                    utc_now(),
                ),
            )
            user = load_user(conn, int(cursor.lastrowid or 0))
    except sqlite3.IntegrityError:
        raise HTTPException(409, f"username {values['username']!r} is taken") from None
    if user is None:
        raise HTTPException(500, "the new user could not be read back")
    return user_view(user, fixed=context.fixed)


def _stats(context: AppContext) -> dict[str, Any]:
    with context.database.connect() as conn:
        users, orders, revenue = conn.execute(
            "SELECT (SELECT count(*) FROM users), (SELECT count(*) FROM orders),"
            " (SELECT coalesce(sum(total), 0) FROM orders)"
        ).fetchone()
    return {"users": users, "orders": orders, "revenue": round(revenue, 2)}
