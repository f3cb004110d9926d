"""Reading path ids and JSON bodies, strictly in the fixed variant only.

The vulnerable variant lets bad input raise, so the error reaches the
verbose error handler with its stack trace (a planted misconfiguration).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Collection
from typing import Any

from fastapi import HTTPException, Request

MAX_ID_DIGITS = 18
"""Maximum digits of an id, because SQLite integers are 64-bit (up to 19 digits)."""


def parse_id(raw: str, name: str, *, fixed: bool) -> int:
    """Convert a path segment to an object id."""
    if not fixed:
        return int(raw)
    if not (raw.isascii() and raw.isdigit()) or len(raw) > MAX_ID_DIGITS:
        raise HTTPException(400, f"invalid {name} {raw!r}: expected a positive integer")
    return int(raw)


def json_object_reader(*, fixed: bool) -> Callable[[Request], Awaitable[dict[str, Any]]]:
    """Build a dependency that returns the request body as a JSON object."""

    async def read_json_object(request: Request) -> dict[str, Any]:
        raw = await request.body()
        if not fixed:
            # Planted: invalid JSON raises here, and a body that is not an
            # object fails later where a route calls a dict method on it.
            loose: dict[str, Any] = json.loads(raw)
            return loose
        try:
            body = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise HTTPException(400, f"request body is not valid JSON: {exc}") from None
        if not isinstance(body, dict):
            raise HTTPException(400, "request body must be a JSON object")
        return body

    return read_json_object


def reject_unknown(body: dict[str, Any], allowed: Collection[str]) -> None:
    """Raise 400 naming the first property of ``body`` that is not in ``allowed``."""
    for name in body:
        if name not in allowed:
            writable = ", ".join(sorted(allowed))
            raise HTTPException(
                400, f"property {name!r} cannot be set by the client; allowed: {writable}"
            )


def optional_str(body: dict[str, Any], name: str, max_length: int) -> str | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or not value or len(value) > max_length:
        raise HTTPException(
            400, f"property {name!r} must be a non-empty string of at most {max_length} characters"
        )
    return value


def required_int(body: dict[str, Any], name: str, minimum: int, maximum: int) -> int:
    value = body.get(name)
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
        raise HTTPException(
            400, f"property {name!r} must be an integer from {minimum} to {maximum}, got {value!r}"
        )
    return value
