"""The operations of an OpenAPI document, compiled once: path matching and validators.

Paths match segment by segment; a literal segment wins over a template
segment at the same place, as OpenAPI requires (``/users/me`` before
``/users/{id}``). A template parameter fills a whole segment.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

import jsonschema_rs

from stockade.protection.openapi.document import OpenApiError, load_document, resolve
from stockade.protection.openapi.schemas import SchemaConverter

log = logging.getLogger(__name__)

OPERATION_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
PARAMETER_PLACES = ("path", "query", "header", "cookie")


@dataclass(slots=True)
class Parameter:
    name: str
    place: str
    required: bool
    schema: dict[str, Any]
    validator: jsonschema_rs.Validator | None
    explode: bool


@dataclass(slots=True)
class Operation:
    method: str
    template: str
    operation_id: str | None
    parameters: list[Parameter]
    body_required: bool
    body_validators: dict[str, jsonschema_rs.Validator | None]  # by media type; None: not JSON
    responses: dict[str, dict[str, jsonschema_rs.Validator]]  # status or "default" -> media type
    extensions: dict[str, Any]

    parameter_places: frozenset[str] = field(init=False)  # path, query, header, cookie
    checks_responses: bool = field(init=False)  # some response has a JSON schema

    def __post_init__(self) -> None:
        self.parameter_places = frozenset(parameter.place for parameter in self.parameters)
        self.checks_responses = any(self.responses.values())

    @property
    def path_parameters(self) -> list[str]:
        return [segment[1:-1] for segment in self.template.split("/") if segment.startswith("{")]

    def response_validator(self, status: int, media_type: str) -> jsonschema_rs.Validator | None:
        for key in (str(status), f"{status // 100}XX", "default"):
            by_type = self.responses.get(key)
            if by_type is not None:
                return by_type.get(media_type) or by_type.get("application/json")
        return None


@dataclass(slots=True)
class _Node:
    literals: dict[str, _Node] = field(default_factory=dict)
    template: _Node | None = None
    name: str = ""
    operations: dict[str, Operation] | None = None


@dataclass(frozen=True, slots=True)
class Match:
    operation: Operation | None  # None when the path exists but the method does not
    params: dict[str, str]
    allowed: tuple[str, ...]


class CompiledDocument:
    """Every operation of one document with its validators; built at config load."""

    def __init__(self, document: dict[str, Any], close_request_objects: bool) -> None:
        self.base_path = _base_path(document)
        self.request_view = SchemaConverter(document, "request", close_request_objects)
        self.response_view = SchemaConverter(document, "response", False)
        self.root = _Node()
        self.operations: list[Operation] = []
        for template, item in document["paths"].items():
            if not isinstance(template, str) or not template.startswith("/"):
                raise OpenApiError(f"path {template!r} must start with '/'")
            item = resolve(document, item)
            if not isinstance(item, dict):
                continue
            shared = item.get("parameters") or []
            node = self._node_for(template)
            node.operations = node.operations or {}
            for method in OPERATION_METHODS:
                operation = item.get(method)
                if isinstance(operation, dict):
                    compiled = self._operation(
                        document, method.upper(), template, shared, operation
                    )
                    node.operations[method.upper()] = compiled
                    self.operations.append(compiled)

    @classmethod
    def load(cls, path: str, close_request_objects: bool) -> CompiledDocument:
        return cls(load_document(path), close_request_objects)

    def _node_for(self, template: str) -> _Node:
        node = self.root
        for segment in template.split("/")[1:]:
            if segment.startswith("{") and segment.endswith("}"):
                if node.template is None:
                    node.template = _Node(name=segment[1:-1])
                node = node.template
            else:
                node = node.literals.setdefault(segment, _Node())
        return node

    def _operation(
        self,
        document: dict[str, Any],
        method: str,
        template: str,
        shared: list[Any],
        operation: dict[str, Any],
    ) -> Operation:
        where = f"{method} {template}"
        merged: dict[tuple[str, str], dict[str, Any]] = {}
        for raw in [*shared, *(operation.get("parameters") or [])]:
            parameter = resolve(document, raw)
            if isinstance(parameter, dict) and parameter.get("in") in PARAMETER_PLACES:
                merged[(str(parameter.get("name")), str(parameter["in"]))] = parameter
        parameters = [self._parameter(item, where) for item in merged.values()]
        body = resolve(document, operation.get("requestBody")) or {}
        validators: dict[str, jsonschema_rs.Validator | None] = {}
        for media_type, content in (body.get("content") or {}).items():
            schema = (content or {}).get("schema")
            json_type = media_type == "application/json" or media_type.endswith("+json")
            validators[media_type.lower()] = (
                self.request_view.validator(schema) if json_type and schema is not None else None
            )
        responses: dict[str, dict[str, jsonschema_rs.Validator]] = {}
        for status, raw in (operation.get("responses") or {}).items():
            response = resolve(document, raw) or {}
            by_type = {}
            for media_type, content in (response.get("content") or {}).items():
                schema = (content or {}).get("schema")
                if schema is not None and (
                    media_type == "application/json" or media_type.endswith("+json")
                ):
                    by_type[media_type.lower()] = self.response_view.validator(schema)
            responses[str(status).upper()] = by_type
        extensions = {key: value for key, value in operation.items() if key.startswith("x-")}
        return Operation(
            method,
            template,
            operation.get("operationId"),
            parameters,
            bool(body.get("required")),
            validators,
            responses,
            extensions,
        )

    def _parameter(self, parameter: dict[str, Any], where: str) -> Parameter:
        place = parameter["in"]
        name = parameter.get("name")
        if not isinstance(name, str) or not name:
            raise OpenApiError(f"{where}: a {place} parameter has no name")
        schema = parameter.get("schema")
        validator = self.request_view.validator(schema) if isinstance(schema, dict) else None
        return Parameter(
            name,
            place,
            place == "path" or bool(parameter.get("required")),
            schema if isinstance(schema, dict) else {},
            validator,
            bool(parameter.get("explode", place in ("query", "cookie"))),
        )

    def match(self, method: str, path: str) -> Match | None:
        """Find the operation of a request; None when no declared path matches."""
        if self.base_path and not (path == self.base_path or path.startswith(self.base_path + "/")):
            return None
        relative = path[len(self.base_path) :] or "/"
        params: dict[str, str] = {}
        segments = [unquote(segment) for segment in relative.split("/")[1:]]
        node = _walk(self.root, segments, params)
        if node is None or not node.operations:
            return None
        allowed = tuple(sorted(node.operations))
        operation = node.operations.get(method)
        if operation is None and method == "HEAD":
            operation = node.operations.get("GET")
        return Match(operation, params, allowed)


def _walk(node: _Node, segments: list[str], params: dict[str, str]) -> _Node | None:
    if not segments:
        return node
    head, rest = segments[0], segments[1:]
    literal = node.literals.get(head)
    if literal is not None:
        found = _walk(literal, rest, params)
        if found is not None and found.operations:
            return found
    if node.template is not None and head:
        found = _walk(node.template, rest, params)
        if found is not None and found.operations:
            params[node.template.name] = head
            return found
    return None


def _base_path(document: dict[str, Any]) -> str:
    servers = document.get("servers") or []
    if not servers or not isinstance(servers[0], dict):
        return ""
    url = str(servers[0].get("url") or "")
    path = urlsplit(url).path if "://" in url else url
    return path.rstrip("/")
