"""Excessive data exposure: response properties the document does not declare.

The response view of a schema reports each undeclared property at its
path. Where the document itself closed the object (``additionalProperties:
false``), every undeclared property is a finding. Where it left the object
open, only undeclared properties that carry sensitive data are findings:
a sensitive data class in the value, or a name such as ``password_hash``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import jsonschema_rs

from stockade.protection.sensitive import find_sensitive_field

MAX_FINDINGS = 50
"""Undeclared properties listed in one event; every one found is still stripped."""

SENSITIVE_NAME_PARTS = (
    "password",
    "passwd",
    "hash",
    "salt",
    "socialsecurity",
    "secret",
    "apikey",
    "privatekey",
    "cardnumber",
    "creditcard",
    "token",
    "internal",
    "dateofbirth",
    "taxid",
)
"""Parts of normalized property names that mark a property as sensitive wherever they appear."""

SENSITIVE_NAMES = frozenset({"ssn", "pin", "cvv", "cvc", "otp", "mfasecret", "dob", "pan"})
"""Short normalized names that are sensitive only as the whole name."""


@dataclass(frozen=True, slots=True)
class Exposure:
    parent: tuple[str | int, ...]  # path of the object holding the property
    name: str
    classes: tuple[str, ...]  # sensitive data classes or "name" when only the name reveals it
    declared_closed: bool  # the document closed this object with additionalProperties: false

    @property
    def pointer(self) -> str:
        return "".join(f"/{token}" for token in (*self.parent, self.name))

    @property
    def sensitive(self) -> bool:
        return bool(self.classes)


def _normalize(name: str) -> str:
    return "".join(char for char in name.lower() if char.isalnum())


def sensitive_name(name: str, extra: frozenset[str]) -> bool:
    """Tell whether a property name marks sensitive data; ``extra`` contains normalized names."""
    key = _normalize(name)
    return (
        key in extra or key in SENSITIVE_NAMES or any(part in key for part in SENSITIVE_NAME_PARTS)
    )


def _value_at(document: Any, path: tuple[str | int, ...]) -> Any:
    node = document
    for token in path:
        if isinstance(node, dict):
            node = node.get(str(token))
        elif isinstance(node, list) and isinstance(token, int) and token < len(node):
            node = node[token]
        else:
            return None
    return node


def _classes(name: str, value: Any, extra: frozenset[str]) -> tuple[str, ...]:
    found: set[str] = set()
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        found.update(kind.value for kind in find_sensitive_field(name, str(value)))
    if sensitive_name(name, extra):
        found.add("name")
    return tuple(sorted(found))


def find_exposures(
    validator: jsonschema_rs.Validator, document: Any, extra_names: frozenset[str]
) -> list[Exposure]:
    """Return the undeclared properties of a response that count as exposure."""
    found: list[Exposure] = []
    seen: set[tuple[tuple[str | int, ...], str]] = set()  # a closed $ref and its target both report
    for error in validator.iter_errors(document):
        kind_name = type(error.kind).__name__
        unexpected = getattr(error.kind, "unexpected", None)
        parent = tuple(error.instance_path)
        if kind_name == "FalseSchema" and parent:
            name = str(parent[-1])
            found.append(Exposure(parent[:-1], name, ("write-only",), True))
        elif kind_name in ("AdditionalProperties", "UnevaluatedProperties") and unexpected:
            closed = kind_name == "AdditionalProperties"
            holder = _value_at(document, parent)
            for name in unexpected:
                value = holder.get(name) if isinstance(holder, dict) else None
                classes = _classes(name, value, extra_names)
                if (classes or closed) and (parent, name) not in seen:
                    seen.add((parent, name))
                    found.append(Exposure(parent, name, classes, closed))
    return found


def strip(document: Any, exposures: list[Exposure]) -> Any:
    """Remove the exposed properties from ``document`` in place and return it."""
    for exposure in exposures:
        holder = _value_at(document, exposure.parent)
        if isinstance(holder, dict):
            holder.pop(exposure.name, None)
    return document
