"""Load the operations a scan tests from an OpenAPI 3.0 or 3.1 document.

The document is a local file or a URL on the target (fetched through the
scan client, so it too is held to the target origin). Local ``$ref``s
(``#/...``) are resolved; a reference to another file is an error.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import yaml

from stockade.scanner.client import ScanClient, ScanRequestError, TargetError

METHODS = ("get", "put", "post", "delete", "patch", "head", "options")

MAX_REF_DEPTH = 40
"""Nested $ref resolutions followed before a schema is left unresolved (cyclic schemas)."""

MAX_DOCUMENT_BYTES = 16 * 1024 * 1024
"""Largest OpenAPI document read, to bound memory."""


class OpenApiError(ValueError):
    """The OpenAPI document cannot be used; the message names the source and the problem."""


@dataclass(frozen=True, slots=True)
class Parameter:
    name: str
    location: str  # path, query, header or cookie
    required: bool
    schema: dict[str, Any]


@dataclass(slots=True)
class Operation:
    method: str  # upper case
    path: str  # the template as written in the document, e.g. /api/v2/orders/{orderId}
    url_path: str  # the template with the server's base path in front
    operation_id: str
    parameters: list[Parameter] = field(default_factory=list)
    body_media_type: str | None = None
    body_schema: dict[str, Any] | None = None
    responses: dict[str, dict[str, Any] | None] = field(default_factory=dict)
    response_types: set[str] = field(default_factory=set)  # media types of every response
    requires_auth: bool = True
    deprecated: bool = False
    tags: list[str] = field(default_factory=list)
    required_role: str | None = None  # from the x-required-role extension

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"

    def has_path(self, path: str) -> bool:
        """Tell whether ``path`` names this operation, as in the document or under the base path."""
        return path in (self.path, self.url_path)

    @property
    def path_params(self) -> list[Parameter]:
        return [param for param in self.parameters if param.location == "path"]

    @property
    def query_params(self) -> list[Parameter]:
        return [param for param in self.parameters if param.location == "query"]

    def response_schema(self, status: int) -> dict[str, Any] | None:
        for key in (str(status), f"{str(status)[0]}XX", "default"):
            if key in self.responses:
                return self.responses[key]
        return None


@dataclass(slots=True)
class ApiDocument:
    source: str
    version: str
    title: str
    operations: list[Operation]

    def find(self, method: str, path: str) -> Operation | None:
        for operation in self.operations:
            if operation.method == method and operation.path == path:
                return operation
        return None

    def paths(self) -> list[str]:
        seen: dict[str, None] = {}
        for operation in self.operations:
            seen.setdefault(operation.path, None)
        return list(seen)


class _Resolver:
    def __init__(self, document: dict[str, Any], source: str) -> None:
        self.document = document
        self.source = source

    def lookup(self, ref: str) -> Any:
        if not ref.startswith("#/"):
            raise OpenApiError(f"{self.source}: unsupported $ref {ref!r}; only references "
                               "inside the document (#/...) are resolved")
        node: Any = self.document
        for token in ref[2:].split("/"):
            key = unquote(token).replace("~1", "/").replace("~0", "~")
            if not isinstance(node, dict) or key not in node:
                raise OpenApiError(f"{self.source}: $ref {ref!r} points to nothing")
            node = node[key]
        return node

    def deref(self, node: Any) -> Any:
        """Follow a top-level $ref chain."""
        for _ in range(MAX_REF_DEPTH):
            if isinstance(node, dict) and "$ref" in node:
                node = self.lookup(str(node["$ref"]))
            else:
                return node
        raise OpenApiError(f"{self.source}: $ref chain longer than {MAX_REF_DEPTH}")

    def schema(self, node: Any, depth: int = 0) -> Any:
        """Resolve every $ref inside a schema, leaving cycles open past MAX_REF_DEPTH."""
        if depth > MAX_REF_DEPTH:
            return {}
        if isinstance(node, dict):
            if "$ref" in node:
                return self.schema(self.lookup(str(node["$ref"])), depth + 1)
            return {key: self.schema(value, depth + 1) for key, value in node.items()}
        if isinstance(node, list):
            return [self.schema(item, depth + 1) for item in node]
        return node


def parse_document(text: str, source: str) -> ApiDocument:
    """Parse an OpenAPI 3.0 or 3.1 document given as JSON or YAML text."""
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise OpenApiError(f"{source}: not valid YAML or JSON: {exc}") from None
    if not isinstance(document, dict):
        raise OpenApiError(f"{source}: the document is not a mapping")

    version = str(document.get("openapi", ""))
    if not (version.startswith("3.0") or version.startswith("3.1")):
        found = version or ("swagger " + str(document["swagger"]) if "swagger" in document
                            else "no openapi field")
        raise OpenApiError(f"{source}: unsupported OpenAPI version ({found}); "
                           "use an OpenAPI 3.0 or 3.1 document")

    paths = document.get("paths") or {}
    if not isinstance(paths, dict):
        raise OpenApiError(f"{source}: 'paths' is not a mapping")

    resolver = _Resolver(document, source)
    base = _server_base_path(document)
    global_security = document.get("security") or []
    operations: list[Operation] = []
    for path, item in paths.items():
        item = resolver.deref(item)
        if not isinstance(item, dict):
            raise OpenApiError(f"{source}: path item {path!r} is not a mapping")
        shared = [resolver.deref(param) for param in item.get("parameters") or []]
        for method in METHODS:
            if method in item:
                operations.append(_operation(resolver, str(path), base, method,
                                             item[method], shared, global_security))
    info = document.get("info") or {}
    return ApiDocument(source, version, str(info.get("title", "")), operations)


def _server_base_path(document: dict[str, Any]) -> str:
    servers = document.get("servers") or []
    if not servers or not isinstance(servers[0], dict):
        return ""
    url = str(servers[0].get("url", ""))
    return urlsplit(url).path.rstrip("/") if "://" in url else url.rstrip("/")


def _operation(resolver: _Resolver, path: str, base: str, method: str, node: Any,
               shared: list[Any], global_security: list[Any]) -> Operation:
    label = f"{method.upper()} {path}"
    if not isinstance(node, dict):
        raise OpenApiError(f"{resolver.source}: operation {label} is not a mapping")
    params: dict[tuple[str, str], Parameter] = {}
    for raw in shared + [resolver.deref(param) for param in node.get("parameters") or []]:
        if not isinstance(raw, dict) or "name" not in raw or "in" not in raw:
            raise OpenApiError(f"{resolver.source}: {label} has a parameter without "
                               "'name' or 'in'")
        location = str(raw["in"])
        params[(str(raw["name"]), location)] = Parameter(
            str(raw["name"]), location, bool(raw.get("required", location == "path")),
            resolver.schema(raw.get("schema") or {}))
    operation = Operation(
        method=method.upper(), path=path, url_path=base + path,
        operation_id=str(node.get("operationId") or label),
        parameters=list(params.values()),
        deprecated=bool(node.get("deprecated", False)),
        tags=[str(tag) for tag in node.get("tags") or []],
        required_role=(str(node["x-required-role"]) if node.get("x-required-role") else None),
    )
    security = node.get("security", global_security)
    # An empty requirement ({}) in the list makes authentication optional.
    operation.requires_auth = bool(security) and all(bool(req) for req in security)
    body = resolver.deref(node.get("requestBody"))
    if isinstance(body, dict):
        content = body.get("content") or {}
        media = _pick_media(content)
        if media is not None:
            operation.body_media_type = media
            operation.body_schema = resolver.schema((content[media] or {}).get("schema") or {})
    for status, answer in (node.get("responses") or {}).items():
        answer = resolver.deref(answer)
        content = (answer or {}).get("content") or {} if isinstance(answer, dict) else {}
        media = _pick_media(content)
        operation.response_types.update(str(key) for key in content)
        schema = (resolver.schema((content[media] or {}).get("schema") or {})
                  if media is not None else None)
        operation.responses[str(status)] = schema
    return operation


def _pick_media(content: Any) -> str | None:
    if not isinstance(content, dict) or not content:
        return None
    for media in content:
        if "json" in str(media):
            return str(media)
    return str(next(iter(content)))


def load_file(path: str | Path) -> ApiDocument:
    file = Path(path)
    try:
        size = file.stat().st_size
        if size > MAX_DOCUMENT_BYTES:
            raise OpenApiError(f"{file}: {size} bytes is over the {MAX_DOCUMENT_BYTES}-byte limit")
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise OpenApiError(f"{file}: cannot read the OpenAPI document: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise OpenApiError(f"{file}: the OpenAPI document is not UTF-8 text") from None
    return parse_document(text, str(file))


async def load_url(client: ScanClient, url: str) -> ApiDocument:
    """Fetch the document from the target; a URL on another origin is rejected."""
    try:
        reply = await client.send("GET", url)
    except (TargetError, ScanRequestError) as exc:
        raise OpenApiError(f"{url}: cannot fetch the OpenAPI document: {exc}") from None
    if not reply.ok:
        raise OpenApiError(f"{url}: cannot fetch the OpenAPI document: the target "
                           f"returned {reply.status}")
    return parse_document(reply.text, url)


async def load_document(client: ScanClient, source: str) -> ApiDocument:
    """Load ``source``: an http(s) URL or a path on the target, else a local file."""
    if source.startswith(("http://", "https://")):
        return await load_url(client, source)
    if source.startswith("/") and not Path(source).exists():
        return await load_url(client, client.target.url(source))
    return load_file(source)

