"""Load an OpenAPI document and follow its local references.

Only local references (``#/...``) are followed. A document that points at
other files or URLs is rejected at load, because the gateway never fetches
anything to understand a request.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import yaml

MAX_DOCUMENT_BYTES = 16 * 1024 * 1024
"""Largest OpenAPI document read; real ones are far smaller."""

MAX_REFERENCE_HOPS = 32
"""References followed in a chain before the document is called circular."""


class OpenApiError(ValueError):
    """The OpenAPI document is missing, unreadable or not one this gateway can enforce."""


def load_document(path: str) -> dict[str, Any]:
    """Read and check a JSON or YAML OpenAPI 3.0 or 3.1 document."""
    file = Path(path)
    try:
        size = file.stat().st_size
        if size > MAX_DOCUMENT_BYTES:
            raise OpenApiError(
                f"OpenAPI document {path} is {size} bytes, more than "
                f"{MAX_DOCUMENT_BYTES}; split or trim it"
            )
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise OpenApiError(f"cannot read OpenAPI document {path}: {exc.strerror}") from None
    try:
        document = json.loads(text) if path.endswith(".json") else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as exc:
        raise OpenApiError(f"OpenAPI document {path} is not valid JSON or YAML: {exc}") from None
    if not isinstance(document, dict):
        raise OpenApiError(f"OpenAPI document {path} must be a mapping at the top level")
    version = str(document.get("openapi", ""))
    if not version.startswith(("3.0.", "3.1.")):
        raise OpenApiError(
            f"OpenAPI document {path} has openapi {version!r}; "
            "only 3.0.x and 3.1.x are supported (convert Swagger 2.0 first)"
        )
    if not isinstance(document.get("paths"), dict):
        raise OpenApiError(f"OpenAPI document {path} has no 'paths' mapping")
    _check_references(document, path)
    return document


def _check_references(node: Any, path: str) -> None:
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            reference = item.get("$ref")
            if isinstance(reference, str) and not reference.startswith("#"):
                raise OpenApiError(
                    f"OpenAPI document {path} refers to {reference!r}; only local "
                    "references (#/...) are supported, bundle the document first"
                )
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def pointer(document: dict[str, Any], reference: str) -> Any:
    """Return the node a local reference such as ``#/components/schemas/User`` names."""
    node: Any = document
    for token in reference.lstrip("#").split("/")[1:]:
        token = unquote(token).replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and token in node:
            node = node[token]
        elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
            node = node[int(token)]
        else:
            raise OpenApiError(f"reference {reference!r} points at nothing")
    return node


def resolve(document: dict[str, Any], node: Any) -> Any:
    """Follow ``$ref`` of a parameter, request body or response object to its target."""
    for _ in range(MAX_REFERENCE_HOPS):
        if not (isinstance(node, dict) and isinstance(node.get("$ref"), str)):
            return node
        node = pointer(document, node["$ref"])
    raise OpenApiError(
        f"a chain of references is circular or longer than {MAX_REFERENCE_HOPS} hops"
    )
