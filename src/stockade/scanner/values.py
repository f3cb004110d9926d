"""Sample values for parameters and bodies, generated from their JSON Schemas.

Values a scan invents are recognizable (``stockade-<nonce>-N``), respect
the schema's enum, format and length limits so that validation accepts
them, and never point anywhere but loopback: URL fields get the scan's
own canary URL or ``http://127.0.0.1/``.
"""

from __future__ import annotations

import itertools
import secrets
from typing import Any

from stockade.scanner.redaction import normalize_name

LOOPBACK_URL = "http://127.0.0.1/"
MAX_SAMPLE_DEPTH = 6
"""Nesting levels of object and array schemas filled in; deeper ones get an empty value."""

URL_NAME_PARTS = ("url", "uri", "link", "callback", "webhook", "redirect", "endpoint", "feed",
                  "image", "avatar", "href")
HOST_NAMES = frozenset({"host", "hostname", "ip", "ipaddress", "address", "server", "domain"})


def schema_type(schema: dict[str, Any]) -> str:
    """The schema's main type; 3.1 type lists and 3.0 nullable both reduce to one type."""
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((item for item in kind if item != "null"), None)
    if kind is None:
        if "properties" in schema:
            return "object"
        if "items" in schema:
            return "array"
        for key in ("allOf", "oneOf", "anyOf"):
            if schema.get(key):
                return schema_type(merged(schema))
        return "string"
    return str(kind)


def merged(schema: dict[str, Any]) -> dict[str, Any]:
    """Fold allOf parts and the first oneOf/anyOf branch into one schema."""
    result = {key: value for key, value in schema.items() if key not in ("allOf", "oneOf", "anyOf")}
    parts = list(schema.get("allOf") or [])
    for key in ("oneOf", "anyOf"):
        if schema.get(key):
            parts.append(schema[key][0])
    for part in parts:
        if not isinstance(part, dict):
            continue
        part = merged(part)
        properties = {**(result.get("properties") or {}), **(part.get("properties") or {})}
        required = [*(result.get("required") or []), *(part.get("required") or [])]
        result = {**part, **result}
        if properties:
            result["properties"] = properties
        if required:
            result["required"] = required
    return result


def is_url_name(name: str) -> bool:
    key = normalize_name(name)
    return any(part in key for part in URL_NAME_PARTS)


def is_host_name(name: str) -> bool:
    return normalize_name(name) in HOST_NAMES


class ValueFactory:
    """Invents values for one scan; every invented string carries the scan's nonce."""

    def __init__(self, canary_url: str | None = None) -> None:
        self.nonce = secrets.token_hex(4)
        self.canary_url = canary_url
        self._counter = itertools.count(1)

    def marker(self) -> str:
        """A fresh string that appears nowhere else, to recognize where it ends up."""
        return f"stockade-{self.nonce}-{next(self._counter)}"

    def sample(self, schema: dict[str, Any] | None, name: str = "", depth: int = 0) -> Any:
        schema = merged(schema or {})
        for key in ("const", "example", "default"):
            if key in schema and schema[key] is not None:
                return schema[key]
        examples = schema.get("examples")
        if isinstance(examples, list) and examples:
            return examples[0]
        if schema.get("enum"):
            return schema["enum"][0]
        kind = schema_type(schema)
        if kind == "object":
            return self.body(schema, depth + 1) if depth < MAX_SAMPLE_DEPTH else {}
        if kind == "array":
            items = schema.get("items") if isinstance(schema.get("items"), dict) else {}
            return [self.sample(items, name, depth + 1)] if depth < MAX_SAMPLE_DEPTH else []
        if kind == "integer":
            return int(schema.get("minimum", 1) if schema.get("minimum", 1) > 0 else 1)
        if kind == "number":
            return float(schema.get("minimum", 1) if schema.get("minimum", 1) > 0 else 1)
        if kind == "boolean":
            return True
        return self.string(schema, name)

    def string(self, schema: dict[str, Any], name: str = "") -> str:
        text_format = str(schema.get("format", ""))
        key = normalize_name(name)
        if text_format in ("uri", "url", "iri") or is_url_name(name):
            value = self.canary_url or LOOPBACK_URL
        elif text_format == "email" or "email" in key:
            value = f"{self.marker()}@example.com"
        elif text_format == "date-time":
            value = "2026-01-01T00:00:00Z"
        elif text_format == "date":
            value = "2026-01-01"
        elif text_format == "uuid":
            value = "00000000-0000-4000-8000-000000000000"
        elif text_format in ("ipv4", "hostname") or is_host_name(name):
            value = "127.0.0.1"
        elif "password" in key:
            value = f"Pw-{secrets.token_hex(8)}!"
        else:
            value = self.marker()
        max_length = schema.get("maxLength")
        if isinstance(max_length, int) and len(value) > max_length:
            value = value[:max_length]
        return value

    def body(self, schema: dict[str, Any] | None, depth: int = 0) -> dict[str, Any]:
        """An object with every writable (not readOnly) property of the schema."""
        schema = merged(schema or {})
        result: dict[str, Any] = {}
        for name, prop in (schema.get("properties") or {}).items():
            prop = merged(prop) if isinstance(prop, dict) else {}
            if prop.get("readOnly"):
                continue
            result[name] = self.sample(prop, name, depth)
        return result
