"""A service's declared API: the operations of its OpenAPI 3.0 or 3.1 document."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from stockade.protection.discovery.templating import split_template

OPERATION_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")

MAX_REF_DEPTH = 32
"""Nested $ref resolutions followed before a schema is treated as open (cyclic schemas)."""


class DeclaredApiError(ValueError):
    """An OpenAPI document could not be read; the message names the file and the problem."""


@dataclass(slots=True)
class DeclaredOperation:
    method: str
    path: str  # with the server's base path in front
    deprecated: bool = False
    params: dict[str, set[str]] = field(
        default_factory=dict
    )  # by location, header names lower-case
    request_types: set[str] = field(default_factory=set)
    request_schema: dict[str, Any] | None = None
    has_request_body: bool = False
    responses: dict[str, set[str]] = field(
        default_factory=dict
    )  # status (or default, 2XX) -> types
    response_schemas: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def segments(self) -> list[str]:
        return split_template(self.path)

    def allows_status(self, status: str) -> bool:
        return (
            status in self.responses
            or "default" in self.responses
            or f"{status[:1]}XX" in self.responses
        )

    def response_schema(self, status: str) -> dict[str, Any] | None:
        for key in (status, f"{status[:1]}XX", "default"):
            if key in self.response_schemas:
                return self.response_schemas[key]
        return None


@dataclass(slots=True)
class DeclaredApi:
    source: str
    version: str
    operations: list[DeclaredOperation]
    api_key_names: dict[str, set[str]] = field(
        default_factory=dict
    )  # security scheme names by location

    def keys(self) -> set[tuple[str, str]]:
        return {(operation.method, operation.path) for operation in self.operations}

    def match(self, method: str, template: str) -> DeclaredOperation | None:
        """Find the declared operation for an observed method and template, most literal first."""
        observed = split_template(template)
        best: DeclaredOperation | None = None
        best_score = -1
        for operation in self.operations:
            if operation.method != method and not (method == "HEAD" and operation.method == "GET"):
                continue
            score = segments_match(operation.segments, observed)
            if score > best_score or (
                score == best_score
                and best is not None
                and operation.method == method != best.method
            ):
                best, best_score = operation, score
        return best if best_score >= 0 else None

    def path_declared(self, template: str) -> bool:
        observed = split_template(template)
        return any(
            segments_match(operation.segments, observed) >= 0 for operation in self.operations
        )


def is_param_segment(segment: str) -> bool:
    return segment.startswith("{") and segment.endswith("}")


def segments_match(declared: list[str], observed: list[str]) -> int:
    """Return how many literal segments agree, or -1 when the templates do not match.

    An observed literal matches a declared parameter (``/users/me`` is an
    instance of ``/users/{id}``), but an observed parameter matches only a
    declared parameter.
    """
    if len(declared) != len(observed):
        return -1
    score = 0
    for mine, theirs in zip(declared, observed, strict=True):
        if is_param_segment(mine):
            continue
        if mine != theirs:
            return -1
        score += 1
    return score


class _Resolver:
    def __init__(self, document: dict[str, Any], source: str) -> None:
        self.document = document
        self.source = source

    def resolve(self, node: Any, depth: int = 0) -> Any:
        """Replace local $refs recursively; past MAX_REF_DEPTH a $ref becomes an open schema."""
        if isinstance(node, list):
            return [self.resolve(item, depth) for item in node]
        if not isinstance(node, dict):
            return node
        if "$ref" in node and isinstance(node["$ref"], str):
            if depth >= MAX_REF_DEPTH:
                return {}
            return self.resolve(self.lookup(node["$ref"]), depth + 1)
        return {key: self.resolve(value, depth) for key, value in node.items()}

    def lookup(self, ref: str) -> Any:
        if not ref.startswith("#/"):
            raise DeclaredApiError(
                f"{self.source}: $ref {ref!r} points outside the document; bundle the document "
                "into one file first"
            )
        node: Any = self.document
        for token in ref[2:].split("/"):
            token = token.replace("~1", "/").replace("~0", "~")
            if not isinstance(node, dict) or token not in node:
                raise DeclaredApiError(f"{self.source}: $ref {ref!r} does not resolve")
            node = node[token]
        return node


def _base_path(document: dict[str, Any]) -> str:
    servers = document.get("servers") or []
    if not servers or not isinstance(servers[0], dict):
        return ""
    url = str(servers[0].get("url", ""))
    for name, variable in (servers[0].get("variables") or {}).items():
        url = url.replace("{" + name + "}", str(variable.get("default", "")))
    return urlsplit(url).path.rstrip("/")


def _content_of(resolver: _Resolver, content: Any) -> tuple[set[str], dict[str, Any] | None]:
    types: set[str] = set()
    schema: dict[str, Any] | None = None
    for media, body in (content or {}).items():
        types.add(str(media).lower())
        if schema is None and isinstance(body, dict) and "schema" in body and "json" in str(media):
            schema = resolver.resolve(body["schema"])
    return types, schema


def _operation(
    resolver: _Resolver, method: str, path: str, item: dict[str, Any], raw: dict[str, Any]
) -> DeclaredOperation:
    operation = DeclaredOperation(method.upper(), path, deprecated=bool(raw.get("deprecated")))
    for parameter in [*item.get("parameters", []), *raw.get("parameters", [])]:
        parameter = resolver.resolve(parameter)
        location = str(parameter.get("in", ""))
        name = str(parameter.get("name", ""))
        operation.params.setdefault(location, set()).add(
            name.lower() if location == "header" else name
        )
    body = resolver.resolve(raw.get("requestBody"))
    if isinstance(body, dict):
        operation.has_request_body = True
        operation.request_types, operation.request_schema = _content_of(
            resolver, body.get("content")
        )
    for status, response in (raw.get("responses") or {}).items():
        response = resolver.resolve(response)
        types, schema = _content_of(
            resolver, response.get("content") if isinstance(response, dict) else None
        )
        operation.responses[str(status).upper() if str(status) != "default" else "default"] = types
        if schema is not None:
            operation.response_schemas[str(status)] = schema
    return operation


def parse_declared(document: Any, source: str) -> DeclaredApi:
    """Read the operations of a parsed OpenAPI 3.0 or 3.1 document."""
    if not isinstance(document, dict) or not str(document.get("openapi", "")).startswith("3."):
        raise DeclaredApiError(
            f"{source}: not an OpenAPI 3.0 or 3.1 document "
            "(the 'openapi' field is missing or not 3.x)"
        )
    resolver = _Resolver(document, source)
    base = _base_path(document)
    operations: list[DeclaredOperation] = []
    paths = document.get("paths") or {}
    if not isinstance(paths, dict):
        raise DeclaredApiError(f"{source}: 'paths' must be a mapping")
    for path, item in paths.items():
        item = resolver.resolve(item)
        if not isinstance(item, dict) or not str(path).startswith("/"):
            raise DeclaredApiError(
                f"{source}: path {path!r} must start with '/' and hold operations"
            )
        for method in OPERATION_METHODS:
            if isinstance(item.get(method), dict):
                operations.append(
                    _operation(resolver, method, base + str(path), item, item[method])
                )
    api = DeclaredApi(source, str((document.get("info") or {}).get("version", "")), operations)
    schemes = (document.get("components") or {}).get("securitySchemes") or {}
    for scheme in resolver.resolve(schemes).values():
        if isinstance(scheme, dict) and scheme.get("type") == "apiKey":
            location = str(scheme.get("in", ""))
            name = str(scheme.get("name", ""))
            api.api_key_names.setdefault(location, set()).add(
                name.lower() if location == "header" else name
            )
    return api


def load_declared(path: str | Path) -> DeclaredApi:
    """Load an OpenAPI document from a YAML or JSON file."""
    source = str(path)
    try:
        text = Path(path).read_text("utf-8")
    except OSError as error:
        raise DeclaredApiError(
            f"cannot read OpenAPI document {source}: {error.strerror}"
        ) from error
    except UnicodeDecodeError as error:
        raise DeclaredApiError(f"{source}: not UTF-8 text at byte {error.start}") from error
    try:
        document = json.loads(text) if source.endswith(".json") else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as error:
        raise DeclaredApiError(f"{source}: invalid YAML or JSON: {error}") from error
    return parse_declared(document, source)
