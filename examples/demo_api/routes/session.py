"""POST /api/v2/login: a username and password for an access token."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import JSONResponse

from demo_api.context import AppContext
from demo_api.inputs import json_object_reader
from demo_api.operators import matches
from demo_api.passwords import DUMMY_HASH, verify_password
from demo_api.queries import all_users, find_user
from demo_api.settings import TOKEN_LIFETIME_SECONDS
from demo_api.views import User

MAX_CREDENTIAL_LENGTH = 256
"""Maximum length of a username or password in the fixed variant."""


def build_router(context: AppContext) -> APIRouter:
    router = APIRouter()
    read_body = json_object_reader(fixed=context.fixed)

    @router.post("/api/v2/login")
    def login(
        request: Request, body: Annotated[dict[str, Any], Depends(read_body)]
    ) -> JSONResponse:
        if context.fixed:
            return _login_fixed(context, request, body)
        return _login_vulnerable(context, body)

    return router


def _token_answer(context: AppContext, user: User) -> JSONResponse:
    token = context.tokens.issue(user.id, user.username, user.role)
    return JSONResponse(
        {"ok": True, "token": token, "token_type": "Bearer", "expires_in": TOKEN_LIFETIME_SECONDS}
    )


def _login_vulnerable(context: AppContext, body: dict[str, Any]) -> JSONResponse:
    """Planted: no limit, 200 on failure, one message per cause, operator injection."""
    username = body.get("username")
    password = body.get("password")
    with context.database.connect() as conn:
        candidates = [user for user in all_users(conn) if matches(user.username, username)]
    if not candidates:
        return JSONResponse({"ok": False, "error": "unknown user"})
    for user in candidates:
        if isinstance(password, dict):
            accepted = matches(user.password_hash, password)
        else:
            accepted = isinstance(password, str) and verify_password(password, user.password_hash)
        if accepted:
            return _token_answer(context, user)
    return JSONResponse({"ok": False, "error": "wrong password"})


def _login_fixed(context: AppContext, request: Request, body: dict[str, Any]) -> JSONResponse:
    username = body.get("username")
    password = body.get("password")
    if not (
        isinstance(username, str)
        and isinstance(password, str)
        and len(username) <= MAX_CREDENTIAL_LENGTH
        and len(password) <= MAX_CREDENTIAL_LENGTH
    ):
        raise HTTPException(
            400,
            f"username and password must be strings of at most {MAX_CREDENTIAL_LENGTH} characters",
        )

    client_key = request.client.host if request.client else "unknown"
    username_limit = context.failed_logins_by_username
    client_limit = context.failed_logins_by_client
    wait = max(username_limit.retry_after(username), client_limit.retry_after(client_key))
    if wait:
        return JSONResponse(
            {"ok": False, "error": "too many failed logins; try again later"},
            status_code=429,
            headers={"Retry-After": str(wait)},
        )

    with context.database.connect() as conn:
        user = find_user(conn, username)
    # An unknown username costs one hash check too, so timing does not tell
    # whether the user exists.
    password_valid = verify_password(password, user.password_hash if user else DUMMY_HASH)
    if user is None or not password_valid:
        username_limit.record(username)
        client_limit.record(client_key)
        return JSONResponse(
            {"ok": False, "error": "invalid username or password"},
            status_code=401,
            headers={"WWW-Authenticate": "Bearer"},
        )
    return _token_answer(context, user)
