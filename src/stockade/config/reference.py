"""Render the configuration reference (docs/configuration.md) from the config models."""

from __future__ import annotations

import json
from typing import Any

from stockade.config.models import GatewayConfig

INTRO = """# Configuration reference

Generated from Stockade's config models by `stockade config reference`; do not
edit by hand. Every section lists its keys with their type, default and
meaning. Unknown keys are errors. `stockade config schema` prints the same
information as JSON Schema for editors, and `stockade config validate FILE`
checks a file against it.
"""


def render_reference() -> str:
    schema = GatewayConfig.model_json_schema()
    definitions: dict[str, Any] = schema.get("$defs", {})
    parts = [INTRO, _section("GatewayConfig (the top level of the file)", schema, definitions)]
    for name in _reachable(schema, definitions):
        parts.append(_section(name, definitions[name], definitions))
    return "\n".join(parts)


def _reachable(schema: dict[str, Any], definitions: dict[str, Any]) -> list[str]:
    """Return the definitions referenced from ``schema``, in breadth-first order."""
    order: list[str] = []
    queue = list(_references(schema))
    while queue:
        name = queue.pop(0)
        if name in order or name not in definitions:
            continue
        order.append(name)
        queue.extend(_references(definitions[name]))
    return order


def _references(node: Any) -> list[str]:
    found: list[str] = []
    if isinstance(node, dict):
        reference = node.get("$ref")
        if isinstance(reference, str):
            found.append(reference.rsplit("/", 1)[-1])
        for key, value in node.items():
            if key != "$defs":
                found.extend(_references(value))
    elif isinstance(node, list):
        for item in node:
            found.extend(_references(item))
    return found


def _section(title: str, schema: dict[str, Any], definitions: dict[str, Any]) -> str:
    lines = [f"## {title}", ""]
    description = schema.get("description")
    if description:
        lines += [" ".join(description.split()), ""]
    properties: dict[str, Any] = schema.get("properties", {})
    if not properties:
        return "\n".join(lines)
    required = set(schema.get("required", []))
    lines += ["| key | type | default | meaning |", "|---|---|---|---|"]
    for key, spec in properties.items():
        default = "required" if key in required else _default(spec)
        meaning = " ".join(str(spec.get("description", "")).split()).replace("|", "\\|")
        lines.append(f"| `{key}` | {_type(spec)} | {default} | {meaning} |")
    lines.append("")
    return "\n".join(lines)


def _type(spec: dict[str, Any]) -> str:
    if "$ref" in spec:
        name = spec["$ref"].rsplit("/", 1)[-1]
        return f"[{name}](#{name.lower()})"
    if "anyOf" in spec:
        return " or ".join(_type(option) for option in spec["anyOf"])
    if "enum" in spec:
        return " or ".join(f"`{json.dumps(value)}`" for value in spec["enum"])
    if "const" in spec:
        return f"`{json.dumps(spec['const'])}`"
    kind = spec.get("type")
    if kind == "array":
        return f"list of {_type(spec.get('items', {}))}"
    if kind == "object":
        extra = spec.get("additionalProperties")
        return f"map of {_type(extra)}" if isinstance(extra, dict) else "mapping"
    return str(kind) if kind else "any"


def _default(spec: dict[str, Any]) -> str:
    if "default" not in spec:
        return ""
    value = json.dumps(spec["default"])
    if len(value) > 40:
        return "see below" if isinstance(spec["default"], dict) else f"`{value[:37]}...`"
    return f"`{value}`"
