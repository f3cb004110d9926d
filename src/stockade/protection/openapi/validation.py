"""Check a request against its operation: parameters and JSON body.

Parameter values arrive as text, so each is converted to the type its
schema declares (integer, number, boolean, array) before validation. A
value that does not convert is validated as the text it is. Body errors
are sorted into three kinds: a ``readOnly`` property sent by the client, a
property the schema does not declare (mass assignment), and any other
schema violation.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import jsonschema_rs

from stockade.protection.openapi.operations import Operation, Parameter

MAX_ERRORS = 10
"""Schema errors reported per request; the rest are counted only."""

MAX_MESSAGE_CHARS = 200
"""Maximum length of a schema error message kept in an event, in characters."""


@dataclass(slots=True)
class Violation:
    kind: str  # "parameter", "body", "mass-assignment", "readonly-property", "content-type", ...
    where: str  # e.g. "query:limit" or "body:/role"
    message: str


@dataclass(slots=True)
class RequestParts:
    path: dict[str, str]
    query: list[tuple[str, str]]
    headers: dict[str, str]
    cookies: dict[str, str]
    media_type: str
    has_body: bool
    body: Any  # parsed JSON, or inputs.MISSING
    body_is_json: bool = field(default=False)


def _types(schema: dict[str, Any]) -> list[str]:
    kind = schema.get("type")
    if isinstance(kind, str):
        return [kind]
    return [item for item in kind if isinstance(item, str)] if isinstance(kind, list) else []


def coerce(text: str, schema: dict[str, Any]) -> Any:
    """Convert a parameter's text to the type its schema declares, when it converts."""
    for kind in _types(schema):
        if kind == "integer":
            try:
                return int(text, 10)
            except ValueError:
                continue
        if kind == "number":
            try:
                number = float(text)
            except ValueError:
                continue
            if number == number and number not in (float("inf"), float("-inf")):
                return number
        if kind == "boolean" and text in ("true", "false"):
            return text == "true"
        if kind == "null" and text == "":
            return None
        if kind == "string":
            return text
    return text


def _items(schema: dict[str, Any]) -> dict[str, Any]:
    items = schema.get("items")
    return items if isinstance(items, dict) else {}


def _parameter_value(parameter: Parameter, parts: RequestParts) -> tuple[bool, Any]:
    schema = parameter.schema
    if parameter.place == "path":
        raw = parts.path.get(parameter.name)
    elif parameter.place == "header":
        raw = parts.headers.get(parameter.name.lower())
    elif parameter.place == "cookie":
        raw = parts.cookies.get(parameter.name)
    else:
        values = [value for name, value in parts.query if name == parameter.name]
        if not values:
            return False, None
        if "array" in _types(schema):
            items = _items(schema)
            texts = values if parameter.explode else values[0].split(",")
            return True, [coerce(text, items) for text in texts]
        raw = values[0]
    if raw is None:
        return False, None
    if "array" in _types(schema):
        items = _items(schema)
        return True, [coerce(text, items) for text in raw.split(",")]
    return True, coerce(raw, schema)


def check_parameters(operation: Operation, parts: RequestParts) -> list[Violation]:
    violations: list[Violation] = []
    for parameter in operation.parameters:
        present, value = _parameter_value(parameter, parts)
        where = f"{parameter.place}:{parameter.name}"
        if not present:
            if parameter.required:
                violations.append(Violation("parameter", where, "required parameter is missing"))
            continue
        if parameter.validator is not None:
            error = next(iter(parameter.validator.iter_errors(value)), None)
            if error is not None:
                violations.append(Violation("parameter", where, _message(error)))
    return violations


def check_body(operation: Operation, parts: RequestParts) -> list[Violation]:
    if not operation.body_validators:
        return []
    if not parts.has_body:
        if operation.body_required:
            return [Violation("body", "body", "the request body is required")]
        return []
    if parts.media_type not in operation.body_validators:
        declared = ", ".join(sorted(operation.body_validators))
        return [
            Violation(
                "content-type",
                "header:content-type",
                f"media type {parts.media_type or '(none)'!r} is not declared; "
                f"use one of {declared}",
            )
        ]
    validator = operation.body_validators[parts.media_type]
    if validator is None:
        return []
    if not parts.body_is_json:
        return [Violation("body", "body", "the body is not valid JSON")]
    return body_violations(validator, parts.body)


def body_violations(validator: jsonschema_rs.Validator, document: Any) -> list[Violation]:
    violations: list[Violation] = []
    for error in validator.iter_errors(document):
        if len(violations) >= MAX_ERRORS:
            break
        pointer = _pointer(error.instance_path)
        kind_name = type(error.kind).__name__
        unexpected = getattr(error.kind, "unexpected", None)
        if kind_name in ("AdditionalProperties", "UnevaluatedProperties") and unexpected:
            for name in unexpected:
                where = f"body:{pointer}/{name}"
                if all(item.where != where for item in violations):  # a $ref and its target
                    message = f"property {name!r} is not declared"
                    violations.append(Violation("mass-assignment", where, message))
        elif kind_name == "FalseSchema":
            violations.append(
                Violation(
                    "readonly-property",
                    f"body:{pointer}",
                    "property is read-only and cannot be set by the client",
                )
            )
        else:
            violations.append(Violation("body", f"body:{pointer}", _message(error)))
    return violations


def _pointer(path: Any) -> str:
    return "".join("/" + str(token).replace("~", "~0").replace("/", "~1") for token in path)


def _message(error: jsonschema_rs.ValidationError) -> str:
    text = error.message
    if len(text) > MAX_MESSAGE_CHARS:
        text = text[:MAX_MESSAGE_CHARS] + "..."
    return text


def summary(violations: list[Violation]) -> list[dict[str, str]]:
    """Return the violations as event evidence: where and why, never the offending value."""
    return [
        {"kind": item.kind, "where": item.where, "message": _redact(item.message)}
        for item in violations[:MAX_ERRORS]
    ]


def _redact(message: str) -> str:
    # jsonschema messages start with the instance ("'abc' is not of type ..."); drop it.
    for marker in (" is not ", " is less ", " is greater ", " does not ", " has ", " was "):
        head, sep, tail = message.partition(marker)
        if sep and head:
            return "value" + sep + tail
    return message if len(message) < 80 else json.dumps(message[:80])
