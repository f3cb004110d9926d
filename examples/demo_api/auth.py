"""Bearer tokens of the calling user, and the admin check."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import HTTPException, Request

from demo_api.context import AppContext
from demo_api.queries import load_user
from demo_api.views import User

QUERY_TOKEN_PARAMETER = "access_token"  # noqa: S105 - a parameter name, not a secret
BEARER_CHALLENGE = {"WWW-Authenticate": "Bearer"}


def token_of(request: Request, *, fixed: bool) -> str | None:
    """Return the bearer token of ``request``, or None when it carries none."""
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    if not fixed:
        # Planted: a token in the URL ends up in access logs and Referer headers.
        return request.query_params.get(QUERY_TOKEN_PARAMETER)
    return None


def user_dependency(context: AppContext) -> Callable[[Request], User]:
    """Build a dependency that returns the calling user or raises 401."""

    def current_user(request: Request) -> User:
        token = token_of(request, fixed=context.fixed)
        if token is None:
            raise HTTPException(401, "missing bearer token", headers=BEARER_CHALLENGE)
        user_id = context.tokens.subject(token)
        user = None
        if user_id is not None:
            with context.database.connect() as conn:
                user = load_user(conn, user_id)
        if user is None:
            raise HTTPException(401, "invalid or expired token", headers=BEARER_CHALLENGE)
        return user

    return current_user


def require_admin(context: AppContext, user: User) -> None:
    """Raise 403 unless ``user`` is an admin; the vulnerable variant never raises."""
    if context.fixed and not user.is_privileged:
        raise HTTPException(403, "this operation requires the admin role")
