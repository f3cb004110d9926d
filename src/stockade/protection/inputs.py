"""Request and response parts the detectors read: query, cookies, JSON bodies.

Each part is parsed once per exchange and kept in ``exchange.state``.
Parsing uses the standard library's splitters, which work by plain string
operations, never by a regular expression.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl, unquote

from stockade.gateway.exchange import Exchange
from stockade.http.fields import Fields

MAX_QUERY_PARAMETERS = 1000
"""Query parameters parsed per request; past this the rest are ignored."""

MAX_JSON_BYTES = 1024 * 1024
"""Largest body parsed as JSON, the gateway's default buffering cap."""

MISSING = object()
"""Stands for a body that is absent, not JSON, or not parseable."""


def media_type(fields: Fields) -> str:
    value = fields.get(b"content-type") or b""
    return value.partition(b";")[0].strip().lower().decode("latin-1")


def is_json(fields: Fields) -> bool:
    kind = media_type(fields)
    return kind == "application/json" or kind.endswith("+json")


def request_media_type(exchange: Exchange) -> str:
    """Return the request's media type, parsed once per exchange."""
    kind = exchange.state.get("protection.request_type")
    if kind is None:
        kind = exchange.state["protection.request_type"] = media_type(exchange.request.fields)
    return str(kind)


def response_media_type(exchange: Exchange) -> str:
    """Return the response's media type, parsed once per exchange.

    It is empty before a response and for a content-encoded (compressed)
    body, so that no detector reads bytes it cannot decode.
    """
    if exchange.response is None:
        return ""
    kind = exchange.state.get("protection.response_type")
    if kind is None:
        fields = exchange.response.fields
        encoding = (fields.get(b"content-encoding") or b"identity").strip().lower()
        # NOTE: compressed responses are not decompressed, so they pass uninspected.
        kind = media_type(fields) if encoding == b"identity" else ""
        exchange.state["protection.response_type"] = kind
    return str(kind)


def is_json_type(kind: str) -> bool:
    return kind == "application/json" or kind.endswith("+json")


def query_pairs(exchange: Exchange) -> list[tuple[str, str]]:
    cached = exchange.state.get("protection.query")
    if cached is not None:
        pairs: list[tuple[str, str]] = cached
        return pairs
    text = exchange.request.query.decode("latin-1")
    pairs = (
        parse_qsl(text, keep_blank_values=True, max_num_fields=None)[:MAX_QUERY_PARAMETERS]
        if text
        else []
    )
    exchange.state["protection.query"] = pairs
    return pairs


def cookies(fields: Fields) -> dict[str, str]:
    found: dict[str, str] = {}
    for value in fields.get_all(b"cookie"):
        for part in value.decode("latin-1").split(";"):
            name, sep, text = part.strip().partition("=")
            if sep and name:
                found.setdefault(name, unquote(text))
    return found


def _parse_json(data: bytes | None, kind: str) -> Any:
    if not data or len(data) > MAX_JSON_BYTES or not is_json_type(kind):
        return MISSING
    try:
        return json.loads(data)
    except (ValueError, RecursionError):
        return MISSING


def request_json(exchange: Exchange) -> Any:
    """Return the parsed JSON request body, or MISSING."""
    if "protection.request_json" not in exchange.state:
        body = None if exchange.body_truncated else exchange.body
        exchange.state["protection.request_json"] = _parse_json(body, request_media_type(exchange))
    return exchange.state["protection.request_json"]


def response_json(exchange: Exchange) -> Any:
    """Return the parsed JSON response body, or MISSING."""
    if "protection.response_json" not in exchange.state:
        response = exchange.response
        body = exchange.response_body
        value = MISSING if response is None else _parse_json(body, response_media_type(exchange))
        exchange.state["protection.response_json"] = value
    return exchange.state["protection.response_json"]


def forget_response_json(exchange: Exchange) -> None:
    """Drop the cached parse after a stage replaced the response body."""
    exchange.state.pop("protection.response_json", None)


def form_or_json_field(exchange: Exchange, name: str) -> str | None:
    """Return a top-level string member of a JSON or form request body."""
    document = request_json(exchange)
    if isinstance(document, dict):
        value = document.get(name)
        return value if isinstance(value, str) else None
    if request_media_type(exchange) == "application/x-www-form-urlencoded" and exchange.body:
        for key, value in parse_qsl(exchange.body.decode("latin-1"), keep_blank_values=True):
            if key == name:
                return value
    return None
