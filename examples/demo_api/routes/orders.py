"""Orders: the caller's list, creation, export, and /api/v2/orders/{orderId}."""

import csv
import io
import sqlite3
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Response

from demo_api.auth import user_dependency
from demo_api.context import AppContext
from demo_api.inputs import json_object_reader, optional_str, parse_id, reject_unknown, required_int
from demo_api.queries import load_order, orders_of
from demo_api.seed import utc_now
from demo_api.views import User, order_view

MAX_QUANTITY = 100
MAX_ADDRESS_LENGTH = 300
MAX_PRODUCT_ID = 2**31
ORDER_CREATE_FIELDS = ("product_id", "quantity", "shipping_address")
ORDER_UPDATE_FIELDS = ("quantity", "shipping_address")
EXPORT_COLUMNS = ("id", "product_name", "quantity", "total", "status", "created_at")


def build_router(context: AppContext) -> APIRouter:
    router = APIRouter()
    current_user = user_dependency(context)
    read_body = json_object_reader(fixed=context.fixed)

    @router.get("/api/v2/orders")
    def list_orders(caller: Annotated[User, Depends(current_user)]) -> list[dict[str, Any]]:
        with context.database.connect() as conn:
            return [order_view(row) for row in orders_of(conn, caller.id)]

    @router.post("/api/v2/orders", status_code=201)
    def create_order(
        caller: Annotated[User, Depends(current_user)],
        body: Annotated[dict[str, Any], Depends(read_body)],
    ) -> dict[str, Any]:
        if context.fixed:
            reject_unknown(body, ORDER_CREATE_FIELDS)
        product_id = required_int(body, "product_id", 1, MAX_PRODUCT_ID)
        quantity = required_int(body, "quantity", 1, MAX_QUANTITY)
        address = optional_str(body, "shipping_address", MAX_ADDRESS_LENGTH) or ""
        with context.database.connect() as conn:
            price = conn.execute(
                "SELECT price FROM products WHERE id = ?", (product_id,)
            ).fetchone()
            if price is None:
                raise HTTPException(404, f"product {product_id} not found")
            cursor = conn.execute(
                "INSERT INTO orders (user_id, product_id, quantity, total, status,"
                " shipping_address, created_at) VALUES (?, ?, ?, ?, 'new', ?, ?)",
                (
                    caller.id,
                    product_id,
                    quantity,
                    round(price[0] * quantity, 2),
                    address,
                    utc_now(),
                ),
            )
            row = load_order(conn, int(cursor.lastrowid or 0))
        if row is None:
            raise HTTPException(500, "the new order could not be read back")
        return order_view(row)

    @router.get("/api/v2/orders/export")
    def export_orders(caller: Annotated[User, Depends(current_user)]) -> Response:
        if context.fixed:
            limit = context.exports_by_user
            wait = limit.retry_after(str(caller.id))
            if wait:
                raise HTTPException(
                    429, "too many exports; try again later", headers={"Retry-After": str(wait)}
                )
            limit.record(str(caller.id))
        with context.database.connect() as conn:
            rows = orders_of(conn, caller.id)
        return Response(_orders_csv(rows), media_type="text/csv")

    @router.get("/api/v2/orders/{orderId}")
    def read_order(caller: Annotated[User, Depends(current_user)], orderId: str) -> dict[str, Any]:
        with context.database.connect() as conn:
            return order_view(_visible_order(context, conn, caller, orderId))

    @router.put("/api/v2/orders/{orderId}")
    def update_order(
        caller: Annotated[User, Depends(current_user)],
        orderId: str,
        body: Annotated[dict[str, Any], Depends(read_body)],
    ) -> dict[str, Any]:
        if context.fixed:
            reject_unknown(body, ORDER_UPDATE_FIELDS)
        with context.database.connect() as conn:
            order = _visible_order(context, conn, caller, orderId)
            _update_order(conn, order, body)
            row = load_order(conn, order["id"])
        if row is None:
            raise HTTPException(404, f"order {order['id']} not found")
        return order_view(row)

    @router.delete("/api/v2/orders/{orderId}", status_code=204)
    def delete_order(caller: Annotated[User, Depends(current_user)], orderId: str) -> Response:
        with context.database.connect() as conn:
            order = _visible_order(context, conn, caller, orderId)
            conn.execute("DELETE FROM orders WHERE id = ?", (order["id"],))
        return Response(status_code=204)

    return router


def _visible_order(
    context: AppContext, conn: sqlite3.Connection, caller: User, raw_id: str
) -> sqlite3.Row:
    """Load the order ``raw_id`` if ``caller`` may see it; the vulnerable variant lets anyone."""
    order_id = parse_id(raw_id, "orderId", fixed=context.fixed)
    row = load_order(conn, order_id)
    owns = row is not None and (row["user_id"] == caller.id or caller.is_privileged)
    if row is None or (context.fixed and not owns):
        raise HTTPException(404, f"order {order_id} not found")
    return row


def _update_order(conn: sqlite3.Connection, order: sqlite3.Row, body: dict[str, Any]) -> None:
    if "quantity" in body:
        quantity = required_int(body, "quantity", 1, MAX_QUANTITY)
        conn.execute(
            "UPDATE orders SET quantity = ?,"
            " total = round((SELECT price FROM products WHERE id = ?) * ?, 2) WHERE id = ?",
            (quantity, order["product_id"], quantity, order["id"]),
        )
    address = optional_str(body, "shipping_address", MAX_ADDRESS_LENGTH)
    if address is not None:
        conn.execute("UPDATE orders SET shipping_address = ? WHERE id = ?", (address, order["id"]))


def _orders_csv(rows: list[sqlite3.Row]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(EXPORT_COLUMNS)
    for row in rows:
        writer.writerow([row[column] for column in EXPORT_COLUMNS])
    return buffer.getvalue()
