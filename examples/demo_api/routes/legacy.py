"""Improper inventory: the retired v1 API and an internal v2 route.

openapi.yaml declares the v1 operations deprecated and leaves
/api/v2/internal/users out entirely.
"""

from typing import Any

from fastapi import APIRouter, HTTPException

from demo_api.context import AppContext
from demo_api.inputs import parse_id
from demo_api.queries import all_users, load_order, load_user
from demo_api.views import order_view, user_view

V1_RETIRED = "API v1 was retired; use /api/v2"


def build_router(context: AppContext) -> APIRouter:
    router = APIRouter()

    @router.get("/api/v1/users/{userId}")
    def read_user_v1(userId: str) -> dict[str, Any]:
        if context.fixed:
            raise HTTPException(410, V1_RETIRED)
        # Planted zombie API: v1 predates authentication and still serves.
        user_id = parse_id(userId, "userId", fixed=False)
        with context.database.connect() as conn:
            user = load_user(conn, user_id)
        if user is None:
            raise HTTPException(404, f"user {user_id} not found")
        return user_view(user, fixed=False)

    @router.get("/api/v1/orders/{orderId}")
    def read_order_v1(orderId: str) -> dict[str, Any]:
        if context.fixed:
            raise HTTPException(410, V1_RETIRED)
        order_id = parse_id(orderId, "orderId", fixed=False)
        with context.database.connect() as conn:
            row = load_order(conn, order_id)
        if row is None:
            raise HTTPException(404, f"order {order_id} not found")
        return order_view(row)

    if not context.fixed:

        @router.get("/api/v2/internal/users")
        def dump_users() -> list[dict[str, Any]]:
            # Planted shadow API: undocumented, unauthenticated, every column.
            with context.database.connect() as conn:
                return [user_view(user, fixed=False) for user in all_users(conn)]

    return router
