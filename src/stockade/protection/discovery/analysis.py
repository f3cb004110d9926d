"""Turn one observed exchange into the counts of a single-hit endpoint.

``Observation`` is the compact record the gateway's observer queues and the
importers build from HAR entries and log lines. ``analyze`` does the work
off the request path: query, header and cookie parameters, auth scheme,
content types, body schemas and sensitive data classes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, unquote

from stockade.protection.discovery.endpoint import EndpointStats, ParamStats
from stockade.protection.discovery.schema import Shape
from stockade.protection.discovery.shapes import is_jwt
from stockade.protection.sensitive import find_sensitive, find_sensitive_field, find_sensitive_json

MAX_PARAMS_PER_LOCATION = 64
"""Query, header or cookie parameters recorded per exchange; the rest are ignored."""

MAX_TEXT_SCAN_BYTES = 64 * 1024
"""Bytes of a non-JSON body scanned for sensitive data."""

STANDARD_HEADERS = frozenset(
    {
        "host",
        "user-agent",
        "accept",
        "accept-encoding",
        "accept-language",
        "accept-charset",
        "connection",
        "content-length",
        "content-type",
        "content-encoding",
        "cookie",
        "authorization",
        "proxy-authorization",
        "cache-control",
        "pragma",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "via",
        "forwarded",
        "x-forwarded-for",
        "x-forwarded-host",
        "x-forwarded-proto",
        "x-forwarded-port",
        "x-real-ip",
        "x-request-id",
        "origin",
        "referer",
        "if-none-match",
        "if-modified-since",
        "if-match",
        "if-unmodified-since",
        "if-range",
        "range",
        "dnt",
        "keep-alive",
        "expect",
        "priority",
        "upgrade-insecure-requests",
        "sec-fetch-site",
        "sec-fetch-mode",
        "sec-fetch-dest",
        "sec-fetch-user",
        "sec-ch-ua",
        "sec-ch-ua-mobile",
        "sec-ch-ua-platform",
        "date",
        "server",
        "set-cookie",
        "etag",
        "last-modified",
        "vary",
        "age",
        "expires",
        "location",
        "access-control-allow-origin",
        "strict-transport-security",
    }
)
"""Fields every client or server sends; they are not API parameters."""

API_KEY_HEADERS = frozenset({"x-api-key", "api-key", "apikey", "x-auth-token", "x-apikey"})
API_KEY_QUERY_NAMES = frozenset({"api_key", "apikey", "api-key", "access_key"})


@dataclass(slots=True)
class Observation:
    """One exchange as discovery needs it; everything but the counts stays raw until analyzed."""

    tenant: str
    service: str
    method: str
    target: str  # path and query, as sent
    status: int
    time: float
    host: str = ""
    request_fields: list[tuple[bytes, bytes]] | None = None
    response_fields: list[tuple[bytes, bytes]] | None = None
    request_body: bytes | None = None
    response_body: bytes | None = None
    request_truncated: bool = False  # the body is only a prefix (capture cap, buffer cap)
    response_truncated: bool = False
    request_id: str | None = None
    client_certificate: bool = False
    auth_method: str | None = None  # what the gateway's auth stage used, when it ran
    request_type: str | None = None  # content types, when no fields are known (log lines)
    response_type: str | None = None


def decode_path(raw_path: str) -> str:
    """Percent-decode each segment of a path, keeping encoded slashes inside their segment."""
    if "%" not in raw_path:
        return raw_path
    segments = raw_path.split("/")
    return "/".join(
        unquote(segment).replace("/", "%2F") if "%" in segment else segment for segment in segments
    )


def media_type(value: str) -> str:
    """Return the media type of a Content-Type value without its parameters, lower-cased."""
    return value.partition(";")[0].strip().lower()


def _is_json(content_type: str) -> bool:
    return content_type == "application/json" or content_type.endswith("+json")


def _fields_text(fields: list[tuple[bytes, bytes]]) -> list[tuple[str, str]]:
    return [(name.decode("latin-1").lower(), value.decode("latin-1")) for name, value in fields]


def _first(fields: list[tuple[str, str]], name: str) -> str | None:
    for key, value in fields:
        if key == name:
            return value
    return None


def _record_param(
    unit: EndpointStats, location: str, name: str, value: str, keep_values: bool
) -> None:
    names = unit.params[location]
    if name not in names and len(names) >= MAX_PARAMS_PER_LOCATION:
        return
    stats = names.setdefault(name, ParamStats())
    if stats.count:
        return  # a repeated parameter counts once per exchange
    stats.count = 1
    stats.shape.observe_text(value, name)
    if not keep_values:
        stats.shape.values = None


def _auth_schemes(
    fields: list[tuple[str, str]], query: list[tuple[str, str]], observation: Observation
) -> set[str]:
    schemes: set[str] = set()
    authorization = _first(fields, "authorization")
    if authorization:
        scheme, _, credentials = authorization.strip().partition(" ")
        scheme = scheme.lower()
        if scheme == "bearer":
            schemes.add("bearer-jwt" if is_jwt(credentials.strip()) else "bearer")
        else:
            schemes.add(scheme or "unknown")
    if any(name in API_KEY_HEADERS for name, _ in fields):
        schemes.add("api-key")
    if any(name.lower() in API_KEY_QUERY_NAMES for name, _ in query):
        schemes.add("api-key")
    if observation.client_certificate:
        schemes.add("mtls")
    return schemes or {"none"}


def _parse_cookies(header: str) -> list[tuple[str, str]]:
    cookies: list[tuple[str, str]] = []
    for part in header.split(";"):
        name, _, value = part.strip().partition("=")
        if name:
            cookies.append((name, value))
    return cookies


def _body_document(body: bytes, content_type: str, truncated: bool) -> Any | None:
    """Parse a JSON or form body; return None for other types or a body cut at the capture cap."""
    if truncated:
        return None
    try:
        if _is_json(content_type):
            return json.loads(body)
        if content_type == "application/x-www-form-urlencoded":
            return dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
    except (ValueError, RecursionError):
        return None
    return None


def _inspect_body(
    body: bytes, content_type: str, truncated: bool, sensitive: dict[str, int]
) -> Shape | None:
    document = _body_document(body, content_type, truncated)
    if document is None:
        text = body[:MAX_TEXT_SCAN_BYTES].decode("utf-8", "replace")
        classes = find_sensitive(text)
    else:
        classes = find_sensitive_json(document)
    for kind in classes:
        sensitive[kind.value] = 1
    if document is None:
        return None
    shape = Shape()
    shape.observe(document)
    return shape


def analyze(observation: Observation) -> tuple[str, EndpointStats]:
    """Return the percent-decoded path of an observation and its single-hit endpoint counts."""
    raw_path, _, raw_query = observation.target.partition("?")
    path = decode_path(raw_path)
    unit = EndpointStats(
        observation.method,
        "",
        hits=1,
        first_seen=observation.time,
        last_seen=observation.time,
        statuses={str(observation.status): 1},
        last_request_id=observation.request_id,
    )
    query = parse_qsl(raw_query, keep_blank_values=True)[:MAX_PARAMS_PER_LOCATION]
    for name, value in query:
        _record_param(unit, "query", name, value, keep_values=True)
        for kind in find_sensitive_field(name, value):
            unit.sensitive_request[kind.value] = 1

    request_fields = _fields_text(observation.request_fields or [])
    response_fields = _fields_text(observation.response_fields or [])
    for name, value in request_fields:
        if name not in STANDARD_HEADERS and name not in API_KEY_HEADERS:
            _record_param(unit, "header", name, value, keep_values=False)
            for kind in find_sensitive_field(name, value):
                unit.sensitive_request[kind.value] = 1
    for name, value in _parse_cookies(_first(request_fields, "cookie") or ""):
        _record_param(unit, "cookie", name, value, keep_values=False)

    if observation.request_fields is not None:
        for scheme in _auth_schemes(request_fields, query, observation):
            unit.auth[scheme] = 1
    if observation.auth_method:
        unit.auth[observation.auth_method] = 1

    request_type = media_type(
        _first(request_fields, "content-type") or observation.request_type or ""
    )
    response_type = media_type(
        _first(response_fields, "content-type") or observation.response_type or ""
    )
    if request_type:
        unit.request_types[request_type] = 1
    if response_type:
        unit.response_types[response_type] = 1

    if observation.request_body is not None or observation.response_body is not None:
        unit.sampled = 1
    if observation.request_body:
        unit.request_body = _inspect_body(
            observation.request_body,
            request_type,
            observation.request_truncated,
            unit.sensitive_request,
        )
    if observation.response_body:
        shape = _inspect_body(
            observation.response_body,
            response_type,
            observation.response_truncated,
            unit.sensitive_response,
        )
        if shape is not None:
            unit.response_bodies[str(observation.status)] = shape
    return path, unit
