"""Drift: what an observed endpoint shows that its declared operation does not.

Undeclared query, header and cookie parameters, status codes, request and
response content types, and JSON body members. A declared schema that lists
no properties, or allows additional ones explicitly, accepts any member.
"""

from __future__ import annotations

from typing import Any

from stockade.protection.discovery.declared import DeclaredApi, DeclaredOperation
from stockade.protection.discovery.endpoint import EndpointStats
from stockade.protection.discovery.schema import Shape


def _media_allowed(media: str, declared: set[str]) -> bool:
    if not declared or media in declared or "*/*" in declared:
        return True
    return f"{media.partition('/')[0]}/*" in declared


def drift_details(
    declared: DeclaredApi, operation: DeclaredOperation, endpoint: EndpointStats
) -> list[str]:
    """List what ``endpoint`` shows that ``operation`` does not declare."""
    details: list[str] = []
    for location in ("query", "header", "cookie"):
        known = operation.params.get(location, set()) | declared.api_key_names.get(location, set())
        for name in sorted(endpoint.params.get(location, {})):
            if name not in known:
                details.append(f"{location} parameter {name!r}")
    for status in sorted(endpoint.statuses):
        if not operation.allows_status(status):
            details.append(f"status code {status}")
    for media in sorted(endpoint.request_types):
        if not operation.has_request_body or not _media_allowed(media, operation.request_types):
            details.append(f"request content type {media!r}")
    response_types = set().union(*operation.responses.values()) if operation.responses else set()
    for media in sorted(endpoint.response_types):
        if response_types and not _media_allowed(media, response_types):
            details.append(f"response content type {media!r}")
    if endpoint.request_body is not None and operation.request_schema is not None:
        for name in undeclared_fields(endpoint.request_body, operation.request_schema):
            details.append(f"request field {name!r}")
    for status, shape in sorted(endpoint.response_bodies.items()):
        schema = operation.response_schema(status)
        if schema is not None:
            for name in undeclared_fields(shape, schema):
                details.append(f"response field {name!r} (status {status})")
    return details


def _declared_members(schema: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any] | None, bool]:
    """Return a schema's properties (allOf, anyOf, oneOf combined), its items, and openness."""
    properties: dict[str, Any] = {}
    items: dict[str, Any] | None = (
        schema.get("items") if isinstance(schema.get("items"), dict) else None
    )
    lists_properties = "properties" in schema
    properties.update(schema.get("properties") or {})
    for keyword in ("allOf", "anyOf", "oneOf"):
        for part in schema.get(keyword) or []:
            if isinstance(part, dict):
                part_properties, part_items, part_open = _declared_members(part)
                properties.update(part_properties)
                items = items or part_items
                lists_properties = lists_properties or not part_open
    extra = schema.get("additionalProperties")
    open_object = not lists_properties or extra is True or (isinstance(extra, dict) and bool(extra))
    return properties, items, open_object


def undeclared_fields(shape: Shape, schema: dict[str, Any], prefix: str = "") -> list[str]:
    """List the members of an observed shape that the declared schema does not name."""
    found: list[str] = []
    properties, items, open_object = _declared_members(schema)
    for name, child in sorted(shape.properties.items()):
        path = f"{prefix}.{name}" if prefix else name
        if name in properties:
            if isinstance(properties[name], dict):
                found.extend(undeclared_fields(child, properties[name], path))
        elif not open_object:
            found.append(path)
    if shape.items is not None and items is not None:
        found.extend(undeclared_fields(shape.items, items, f"{prefix}[]"))
    return found
