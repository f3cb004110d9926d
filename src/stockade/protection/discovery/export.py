"""Export an inventory as an OpenAPI 3.1 document.

Counts that OpenAPI has no field for (hits, first and last seen, auth
schemes and sensitive data classes) go into ``x-stockade-*`` extensions.
"""

from __future__ import annotations

import time
from typing import Any

from stockade.protection.discovery.endpoint import EndpointStats, ParamStats
from stockade.protection.discovery.inventory import ServiceInventory
from stockade.protection.discovery.templating import split_template

OPENAPI_METHODS = frozenset({"get", "put", "post", "delete", "options", "head", "patch", "trace"})

_SECURITY_SCHEMES: dict[str, dict[str, Any]] = {
    "bearer-jwt": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
    "bearer": {"type": "http", "scheme": "bearer"},
    "basic": {"type": "http", "scheme": "basic"},
    "api-key": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
    "mtls": {"type": "mutualTLS"},
}


def _iso(timestamp: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(timestamp))


def _operation_id(method: str, template: str) -> str:
    words = [method.lower()]
    for segment in split_template(template):
        if segment.startswith("{"):
            name = segment[1:-1]
            words.append("by" + name[:1].upper() + name[1:])
        elif segment:
            words.append("".join(char if char.isalnum() else "_" for char in segment))
    return "_".join(words)


def _parameter(name: str, location: str, stats: ParamStats, hits: int) -> dict[str, Any]:
    return {
        "name": name,
        "in": location,
        "required": stats.count >= hits,
        "schema": stats.shape.to_json_schema() or {},
        "x-stockade-seen": stats.count,
    }


def _path_parameters(template: str) -> list[dict[str, Any]]:
    return [
        {"name": segment[1:-1], "in": "path", "required": True, "schema": {"type": "string"}}
        for segment in split_template(template)
        if segment.startswith("{")
    ]


def _operation(endpoint: EndpointStats) -> dict[str, Any]:
    parameters = _path_parameters(endpoint.template)
    for location in ("query", "header", "cookie"):
        for name, stats in sorted(endpoint.params.get(location, {}).items()):
            parameters.append(_parameter(name, location, stats, endpoint.hits))
    operation: dict[str, Any] = {
        "operationId": _operation_id(endpoint.method, endpoint.template),
        "responses": {},
        "x-stockade-hits": endpoint.hits,
        "x-stockade-first-seen": _iso(endpoint.first_seen),
        "x-stockade-last-seen": _iso(endpoint.last_seen),
        "x-stockade-auth": sorted(endpoint.auth),
    }
    if parameters:
        operation["parameters"] = parameters
    sensitive = {
        "request": sorted(endpoint.sensitive_request),
        "response": sorted(endpoint.sensitive_response),
    }
    if sensitive["request"] or sensitive["response"]:
        operation["x-stockade-sensitive"] = sensitive
    if endpoint.request_types:
        schema = endpoint.request_body.to_json_schema() if endpoint.request_body else {}
        operation["requestBody"] = {
            "content": {media: {"schema": schema} for media in sorted(endpoint.request_types)}
        }
    for status in sorted(endpoint.statuses):
        if not (status.isdigit() and 100 <= int(status) <= 599):
            continue
        response: dict[str, Any] = {"description": f"Seen {endpoint.statuses[status]} times"}
        shape = endpoint.response_bodies.get(status)
        if shape is not None:
            response["content"] = {
                media: {"schema": shape.to_json_schema()}
                for media in sorted(endpoint.response_types) or ["application/json"]
            }
        elif endpoint.response_types and not status.startswith(("1", "204", "304")):
            response["content"] = {media: {} for media in sorted(endpoint.response_types)}
        operation["responses"][status] = response
    schemes = [name for name in sorted(endpoint.auth) if name in _SECURITY_SCHEMES]
    if schemes:
        operation["security"] = [{name: []} for name in schemes]
        if "none" in endpoint.auth:
            operation["security"].append({})
    return operation


def export_openapi(
    inventory: ServiceInventory, *, title: str | None = None, version: str | None = None
) -> dict[str, Any]:
    """Build an OpenAPI 3.1 document of every endpoint in ``inventory``."""
    paths: dict[str, dict[str, Any]] = {}
    used_schemes: set[str] = set()
    operation_ids: set[str] = set()
    for endpoint in sorted(inventory.endpoints.values(), key=lambda item: item.key[::-1]):
        method = endpoint.method.lower()
        if method not in OPENAPI_METHODS or not endpoint.template.startswith("/"):
            continue  # NOTE: methods OpenAPI cannot describe (WebDAV and others) are left out
        operation = _operation(endpoint)
        base_id = operation["operationId"]
        index = 2
        while operation["operationId"] in operation_ids:
            operation["operationId"] = f"{base_id}_{index}"
            index += 1
        operation_ids.add(operation["operationId"])
        paths.setdefault(endpoint.template, {})[method] = operation
        used_schemes.update(name for name in endpoint.auth if name in _SECURITY_SCHEMES)
    document: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {
            "title": title or f"{inventory.tenant}/{inventory.service} (discovered)",
            "version": version or time.strftime("%Y-%m-%d", time.gmtime()),
            "description": "Generated by Stockade API discovery from observed traffic.",
        },
        "paths": paths,
    }
    if used_schemes:
        document["components"] = {
            "securitySchemes": {name: _SECURITY_SCHEMES[name] for name in sorted(used_schemes)}
        }
    return document
