"""Turn OpenAPI schema objects into JSON Schema 2020-12 validators, one view per direction.

OpenAPI 3.1 schemas are JSON Schema 2020-12 already; 3.0 schemas get
``nullable`` and the boolean ``exclusiveMinimum``/``exclusiveMaximum``
rewritten. Each schema is then seen in one of two views:

- request: a ``readOnly`` property becomes the ``false`` schema, so a client
  that sends it fails at that property. With ``close_objects`` every object
  schema also gets ``unevaluatedProperties: false`` (mass assignment).
- response: a ``writeOnly`` property becomes ``false``, and every object
  schema that does not say otherwise gets ``unevaluatedProperties: false``,
  so undeclared response properties show up as errors at their path.

An object schema used as a member of ``allOf``, ``anyOf`` or ``oneOf`` is
never closed on its own, since closing it would reject the properties its
siblings declare; the enclosing schema, and every ``$ref`` to it, is
closed instead. Patterns compile with the linear-time regex engine, so no
schema can make a request backtrack.
"""

from __future__ import annotations

import json
from typing import Any, Literal

import jsonschema_rs

from stockade.protection.openapi.document import OpenApiError

View = Literal["request", "response"]

MAX_SCHEMA_DEPTH = 200
"""Nesting of schema objects followed; deeper documents are rejected at load."""

COMPOSITION_KEYS = ("allOf", "anyOf", "oneOf")
SCHEMA_MAP_KEYS = ("properties", "patternProperties", "$defs", "definitions", "dependentSchemas")
SCHEMA_KEYS = (
    "items",
    "additionalProperties",
    "not",
    "contains",
    "if",
    "then",
    "else",
    "propertyNames",
    "unevaluatedItems",
    "unevaluatedProperties",
)
SCHEMA_LIST_KEYS = ("prefixItems", *COMPOSITION_KEYS)


def composed_references(document: dict[str, Any]) -> frozenset[str]:
    """Return the references used directly as members of allOf, anyOf or oneOf."""
    found: set[str] = set()
    stack: list[Any] = [document]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            for key in COMPOSITION_KEYS:
                members = node.get(key)
                if isinstance(members, list):
                    found.update(
                        member["$ref"]
                        for member in members
                        if isinstance(member, dict) and isinstance(member.get("$ref"), str)
                    )
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return frozenset(found)


class SchemaConverter:
    """Converts the schemas of one document for one view, with the document's components."""

    def __init__(self, document: dict[str, Any], view: View, close_objects: bool) -> None:
        self.legacy = str(document.get("openapi", "")).startswith("3.0.")
        self.view = view
        self.close_objects = close_objects or view == "response"
        self.composed = composed_references(document)
        components = document.get("components") or {}
        schemas = components.get("schemas") or {}
        converted = {
            name: self.convert(schema, f"#/components/schemas/{name}" in self.composed)
            for name, schema in schemas.items()
        }
        self.components = {**components, "schemas": converted}
        self._validators: dict[str, jsonschema_rs.Validator] = {}

    def convert(self, schema: Any, in_composition: bool = False, depth: int = 0) -> Any:
        if depth > MAX_SCHEMA_DEPTH:
            raise OpenApiError(f"a schema nests deeper than {MAX_SCHEMA_DEPTH} levels")
        if not isinstance(schema, dict):
            return schema
        node = dict(schema)
        if self.legacy:
            _convert_legacy(node)
        for key in SCHEMA_MAP_KEYS:
            if isinstance(node.get(key), dict):
                node[key] = {
                    name: self._member(key, child, depth) for name, child in node[key].items()
                }
        for key in SCHEMA_KEYS:
            if isinstance(node.get(key), dict):
                node[key] = self.convert(node[key], False, depth + 1)
        for key in SCHEMA_LIST_KEYS:
            if isinstance(node.get(key), list):
                node[key] = [
                    self.convert(child, key in COMPOSITION_KEYS, depth + 1) for child in node[key]
                ]
        if (
            self.close_objects
            and not in_composition
            and _may_describe_object(node)
            and "additionalProperties" not in node
            and "unevaluatedProperties" not in node
        ):
            node["unevaluatedProperties"] = False
        return node

    def _member(self, key: str, child: Any, depth: int) -> Any:
        if key == "properties" and isinstance(child, dict):
            hidden = "readOnly" if self.view == "request" else "writeOnly"
            if child.get(hidden) is True:
                return False
        return self.convert(child, False, depth + 1)

    def validator(self, schema: Any) -> jsonschema_rs.Validator:
        """Return the compiled validator of one schema object; equal schemas share one."""
        converted = self.convert(schema)
        root = dict(converted) if isinstance(converted, dict) else {"allOf": [converted]}
        root["components"] = self.components
        key = json.dumps(converted, sort_keys=True, default=str)
        found = self._validators.get(key)
        if found is None:
            try:
                found = jsonschema_rs.Draft202012Validator(
                    root, retriever=_no_fetch, pattern_options=jsonschema_rs.RegexOptions()
                )
            except (jsonschema_rs.ValidationError, ValueError) as exc:
                raise OpenApiError(
                    f"a schema cannot be compiled: {str(exc).splitlines()[0]}"
                ) from None
            self._validators[key] = found
        return found


def _no_fetch(uri: str) -> Any:
    raise ValueError(f"external reference {uri} is not fetched")


def _may_describe_object(node: dict[str, Any]) -> bool:
    """Tell whether closing this schema can matter: an object, a reference or a composition.

    In JSON Schema 2020-12 ``unevaluatedProperties`` counts the properties that
    ``$ref`` and ``allOf`` members evaluated, so closing a reference or a
    composition from outside keeps its members intact.
    """
    return _is_object_schema(node) or "$ref" in node or any(key in node for key in COMPOSITION_KEYS)


def _is_object_schema(node: dict[str, Any]) -> bool:
    kind = node.get("type")
    is_object = kind == "object" or (isinstance(kind, list) and "object" in kind)
    return is_object or ("properties" in node and kind is None)


def _convert_legacy(node: dict[str, Any]) -> None:
    """Rewrite the OpenAPI 3.0 keywords that differ from JSON Schema 2020-12, in place."""
    if node.pop("nullable", False) is True:
        kind = node.get("type")
        if isinstance(kind, str):
            node["type"] = [kind, "null"]
        if isinstance(node.get("enum"), list) and None not in node["enum"]:
            node["enum"] = [*node["enum"], None]
    for bound, exclusive in (("minimum", "exclusiveMinimum"), ("maximum", "exclusiveMaximum")):
        flag = node.get(exclusive)
        if isinstance(flag, bool):
            del node[exclusive]
            if flag and bound in node:
                node[exclusive] = node.pop(bound)
