"""Request content types a browser may send cross-site without a CORS preflight.

The Fetch standard lets a page send ``application/x-www-form-urlencoded``,
``multipart/form-data`` and ``text/plain`` bodies (and bodies with no
Content-Type at all) to any origin without asking first. A JSON API that
accepts only JSON never needs them, so on such routes they mark a forged
request.
"""

from __future__ import annotations

from stockade.gateway.exchange import Exchange
from stockade.gateway.routing import RouteContext
from stockade.http.messages import BodyFraming
from stockade.protection.openapi.lookup import document_for, operation_of
from stockade.protection.openapi.operations import CompiledDocument

SIMPLE_CONTENT_TYPES = frozenset(
    {"application/x-www-form-urlencoded", "multipart/form-data", "text/plain"}
)
NO_CONTENT_TYPE = "(none)"  # shown in events for a body sent without Content-Type
MAX_CONTENT_TYPE_BYTES = 256


def media_type(exchange: Exchange) -> str | None:
    """Return the lower-case type/subtype of the request body, NO_CONTENT_TYPE, or None.

    None means the request has no body, so there is nothing to judge.
    """
    head = exchange.request
    has_body = head.framing is BodyFraming.CHUNKED or bool(head.content_length)
    if not has_body:
        return None
    value = head.fields.get(b"content-type")
    if value is None:
        return NO_CONTENT_TYPE
    value = value[:MAX_CONTENT_TYPE_BYTES].partition(b";")[0].strip().lower()
    return value.decode("latin-1")


def is_json_type(value: str) -> bool:
    kind, _, subtype = value.partition(";")[0].strip().partition("/")
    return kind == "application" and (subtype == "json" or subtype.endswith("+json"))


def is_simple(value: str) -> bool:
    return value == NO_CONTENT_TYPE or value in SIMPLE_CONTENT_TYPES


class JsonOnlyRule:
    """Decides whether a route accepts only JSON bodies: fixed by policy, or from OpenAPI."""

    def __init__(self, fixed: bool | None, document: CompiledDocument | None) -> None:
        self._fixed = fixed
        self._document = document
        self._service_json_only = document is not None and _declares_only_json(document)

    @classmethod
    def build(cls, setting: bool | str, context: RouteContext) -> JsonOnlyRule:
        if isinstance(setting, bool):
            return cls(setting, None)
        return cls(None, document_for(context))

    @property
    def active(self) -> bool:
        return self._fixed is True or (self._fixed is None and self._document is not None)

    def applies(self, exchange: Exchange) -> bool:
        if self._fixed is not None:
            return self._fixed
        document = self._document
        if document is None:
            return False
        match = operation_of(exchange, document)
        if match is None or match.operation is None:
            return self._service_json_only
        declared = list(match.operation.body_validators)
        return bool(declared) and all(is_json_type(item) for item in declared)


def _declares_only_json(document: CompiledDocument) -> bool:
    declared = [item for operation in document.operations for item in operation.body_validators]
    return bool(declared) and all(is_json_type(item) for item in declared)
