"""The compiled document of a service, shared by every route, and the operation of an exchange."""

from __future__ import annotations

import os
from typing import cast

from stockade.config.loader import ConfigError, ConfigIssue
from stockade.gateway.exchange import Exchange
from stockade.gateway.routing import RouteContext
from stockade.protection.openapi.document import OpenApiError
from stockade.protection.openapi.operations import CompiledDocument, Match

STATE_KEY = "protection.openapi.match"


def document_for(
    context: RouteContext, close_request_objects: bool = False
) -> CompiledDocument | None:
    """Return the service's compiled document, or None when the service declares none.

    Raises ConfigError naming the service when the document cannot be used.
    """
    path = context.service.openapi
    if path is None:
        return None
    try:
        stamp = os.stat(path).st_mtime_ns
    except OSError:
        stamp = 0
    key = f"protection.openapi:{path}:{stamp}:{close_request_objects}"
    try:
        return cast(
            CompiledDocument,
            context.resources.get_or_create(
                key, lambda: CompiledDocument.load(path, close_request_objects)
            ),
        )
    except OpenApiError as exc:
        key_path = f"tenants[{context.tenant.id}].services[{context.service.id}].openapi"
        raise ConfigError([ConfigIssue(path, key_path, None, str(exc))]) from None


def operation_of(exchange: Exchange, document: CompiledDocument) -> Match | None:
    """Return the document's match for this exchange, computed once per exchange and document."""
    cache = exchange.state.setdefault(STATE_KEY, {})
    key = id(document)
    if key not in cache:
        request = exchange.request
        cache[key] = document.match(
            request.method.decode("latin-1"), request.path.decode("latin-1")
        )
    match: Match | None = cache[key]
    return match
