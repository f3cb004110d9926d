"""User profiles: /api/v2/users/me and /api/v2/users/{userId}."""

import sqlite3
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Response

from demo_api.auth import require_admin, user_dependency
from demo_api.context import AppContext
from demo_api.inputs import json_object_reader, optional_str, parse_id, reject_unknown
from demo_api.queries import load_user
from demo_api.views import User, user_view

PROFILE_FIELDS = {"email": 254, "full_name": 200}
"""Properties a user may change, with their maximum length (254: RFC 5321 path limit)."""

MASS_ASSIGNABLE_FIELDS = ("role", "is_admin", "balance", "internal_notes")
"""Columns the vulnerable PATCH /api/v2/users/me also writes when a client sends them."""


def build_router(context: AppContext) -> APIRouter:
    router = APIRouter()
    current_user = user_dependency(context)
    read_body = json_object_reader(fixed=context.fixed)
    Caller = Annotated[User, Depends(current_user)]
    Body = Annotated[dict[str, Any], Depends(read_body)]

    @router.get("/api/v2/users/me")
    def read_me(caller: Caller) -> dict[str, Any]:
        return user_view(caller, fixed=context.fixed)

    @router.patch("/api/v2/users/me")
    def update_me(caller: Caller, body: Body) -> dict[str, Any]:
        changes = _profile_changes(context, body)
        if not context.fixed:
            # Planted mass assignment: privileged columns are written as sent.
            changes.update(_privileged_changes(body))
        return _apply(context, caller.id, changes)

    @router.get("/api/v2/users/{userId}")
    def read_user(caller: Caller, userId: str) -> dict[str, Any]:
        with context.database.connect() as conn:
            target = _visible_user(context, conn, caller, userId)
        return user_view(target, fixed=context.fixed)

    @router.put("/api/v2/users/{userId}")
    def replace_user(caller: Caller, userId: str, body: Body) -> dict[str, Any]:
        with context.database.connect() as conn:
            target = _visible_user(context, conn, caller, userId)
        return _apply(context, target.id, _profile_changes(context, body))

    @router.delete("/api/v2/users/{userId}", status_code=204)
    def delete_user(caller: Caller, userId: str) -> Response:
        require_admin(context, caller)
        user_id = parse_id(userId, "userId", fixed=context.fixed)
        with context.database.connect() as conn:
            deleted = conn.execute("DELETE FROM users WHERE id = ?", (user_id,)).rowcount
        if not deleted:
            raise HTTPException(404, f"user {user_id} not found")
        return Response(status_code=204)

    return router


def _visible_user(context: AppContext, conn: sqlite3.Connection, caller: User, raw_id: str) -> User:
    """Load the user ``raw_id`` if ``caller`` may see it; the vulnerable variant lets anyone."""
    user_id = parse_id(raw_id, "userId", fixed=context.fixed)
    target = load_user(conn, user_id)
    owns = target is not None and (target.id == caller.id or caller.is_privileged)
    if target is None or (context.fixed and not owns):
        # Another user's id gets the same 404 as a missing one, so ids
        # cannot be probed.
        raise HTTPException(404, f"user {user_id} not found")
    return target


def _profile_changes(context: AppContext, body: dict[str, Any]) -> dict[str, object]:
    if context.fixed:
        reject_unknown(body, PROFILE_FIELDS)
    changes: dict[str, object] = {}
    for name, max_length in PROFILE_FIELDS.items():
        value = optional_str(body, name, max_length)
        if value is not None:
            changes[name] = value
    return changes


def _privileged_changes(body: dict[str, Any]) -> dict[str, object]:
    changes: dict[str, object] = {}
    for name in MASS_ASSIGNABLE_FIELDS:
        if name in body:
            value = body[name]
            changes[name] = int(bool(value)) if name == "is_admin" else value
    return changes


def _apply(context: AppContext, user_id: int, changes: dict[str, object]) -> dict[str, Any]:
    with context.database.connect() as conn:
        for column, value in changes.items():
            # Column names come from PROFILE_FIELDS or MASS_ASSIGNABLE_FIELDS only.
            conn.execute(f"UPDATE users SET {column} = ? WHERE id = ?", (value, user_id))  # noqa: S608
        user = load_user(conn, user_id)
    if user is None:
        raise HTTPException(404, f"user {user_id} not found")
    return user_view(user, fixed=context.fixed)
