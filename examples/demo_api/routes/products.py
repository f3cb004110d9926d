"""The product catalogue: search and read. Public, no token needed."""

from typing import Any

from fastapi import APIRouter, HTTPException

from demo_api.context import AppContext
from demo_api.inputs import parse_id
from demo_api.views import product_view

PRODUCT_COLUMNS = "SELECT id, name, description, price FROM products"
MAX_SEARCH_LENGTH = 200
LIKE_ESCAPE = "\\"


def build_router(context: AppContext) -> APIRouter:
    router = APIRouter()

    @router.get("/api/v2/products")
    def search_products(search: str = "") -> list[dict[str, Any]]:
        with context.database.connect() as conn:
            if context.fixed:
                rows = conn.execute(
                    f"{PRODUCT_COLUMNS} WHERE name LIKE ? ESCAPE ? ORDER BY id",
                    (f"%{_escape_like(_bounded(search))}%", LIKE_ESCAPE),
                ).fetchall()
            else:
                # Planted SQL injection: the search text is pasted into the
                # statement. A syntax error reaches the verbose error handler
                # (error-based), a true or false condition changes the rows
                # (boolean-based), and sleep(N) delays the response (time-based).
                statement = f"{PRODUCT_COLUMNS} WHERE name LIKE '%{search}%' ORDER BY id"
                rows = conn.execute(statement).fetchall()
        return [product_view(row) for row in rows]

    @router.get("/api/v2/products/{productId}")
    def read_product(productId: str) -> dict[str, Any]:
        product_id = parse_id(productId, "productId", fixed=context.fixed)
        with context.database.connect() as conn:
            row = conn.execute(f"{PRODUCT_COLUMNS} WHERE id = ?", (product_id,)).fetchone()
        if row is None:
            raise HTTPException(404, f"product {product_id} not found")
        return product_view(row)

    return router


def _bounded(search: str) -> str:
    if len(search) > MAX_SEARCH_LENGTH:
        raise HTTPException(400, f"search must be at most {MAX_SEARCH_LENGTH} characters")
    return search


def _escape_like(text: str) -> str:
    """Escape LIKE wildcards so the search matches the text literally."""
    for special in (LIKE_ESCAPE, "%", "_"):
        text = text.replace(special, LIKE_ESCAPE + special)
    return text
