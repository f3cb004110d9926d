"""Responses the gateway writes itself: errors and stage rejections, as small JSON bodies."""

from __future__ import annotations

import json
from http import HTTPStatus

from stockade.http.fields import Fields
from stockade.http.serialize import serialize_response_head

ERROR_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    408: "request_timeout",
    411: "length_required",
    413: "payload_too_large",
    414: "uri_too_long",
    415: "unsupported_media_type",
    429: "too_many_requests",
    431: "request_header_fields_too_large",
    500: "internal_error",
    501: "not_implemented",
    502: "bad_gateway",
    503: "service_unavailable",
    504: "gateway_timeout",
}


def reason_phrase(status: int) -> bytes:
    try:
        return HTTPStatus(status).phrase.encode("ascii")
    except ValueError:
        return b"Unknown"


def json_response(
    status: int,
    message: str,
    request_id: str,
    request_id_header: bytes,
    *,
    extra: tuple[tuple[bytes, bytes], ...] | list[tuple[bytes, bytes]] = (),
    close: bool = False,
    head_only: bool = False,
) -> bytes:
    """Serialize a complete response with a JSON error body."""
    body = b""
    fields = Fields()
    if status not in (204, 304) and status >= 200:
        payload = {
            "error": ERROR_CODES.get(status, "error"),
            "message": message,
            "request_id": request_id,
        }
        body = json.dumps(payload).encode("utf-8")
        fields.add(b"Content-Type", b"application/json")
        fields.add(b"Content-Length", str(len(body)).encode("ascii"))
    for name, value in extra:
        fields.add(name, value)
    fields.add(request_id_header, request_id.encode("ascii"))
    if close:
        fields.add(b"Connection", b"close")
    head = serialize_response_head(status, reason_phrase(status), fields)
    return head if head_only else head + body
