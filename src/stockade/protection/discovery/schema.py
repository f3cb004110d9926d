"""JSON schema inference: many observed values merge into one ``Shape``.

A shape counts what it saw (JSON types, string formats, object members,
array items, small sets of string values) so that two shapes merge by adding
counts. ``to_json_schema`` turns the counts into a JSON Schema as OpenAPI
3.1 uses it. A member present in every object is required, and a null next
to another type makes the type list nullable. A string field with few
distinct values over many samples becomes an enum.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from stockade.protection.discovery.shapes import scalar_type, string_format
from stockade.protection.sensitive import classify_field_name, find_sensitive

MAX_DEPTH = 12
"""Nesting levels that are inferred; deeper values only count as 'object' or 'array'."""

MAX_PROPERTIES = 256
"""Members kept per object shape; maps keyed by ids would otherwise grow without end."""

MAX_ITEMS_SAMPLED = 32
"""Array items inferred per array; the rest only count towards the array itself."""

MAX_SHAPE_NODES = 1000
"""Positions (members and array items) in one inferred schema; clients choose member names."""

ENUM_MAX_VALUES = 10
"""Distinct string values that can still form an enum."""

ENUM_MIN_SAMPLES = 20
"""Strings seen before a small value set is reported as an enum."""

ENUM_MAX_VALUE_CHARS = 40
"""Longer strings are free text, never enum members."""

ENUM_MAX_DIGITS = 3
"""Strings with more digits are ids or numbers and are not kept as enum members."""

_JSON_TYPES = ("object", "array", "string", "integer", "number", "boolean", "null")


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _add(counts: dict[str, int], key: str, amount: int = 1) -> None:
    counts[key] = counts.get(key, 0) + amount


def _enum_candidate(name: str, value: str) -> bool:
    if len(value) > ENUM_MAX_VALUE_CHARS or sum(char.isdigit() for char in value) > ENUM_MAX_DIGITS:
        return False
    return not classify_field_name(name, value) and not find_sensitive(value)


@dataclass(slots=True)
class _Budget:
    """New positions a shape may still grow by during one observe or merge."""

    left: int

    def take(self) -> bool:
        if self.left <= 0:
            return False
        self.left -= 1
        return True


@dataclass(slots=True)
class Shape:
    """Counts of everything observed at one position of a JSON document."""

    count: int = 0
    types: dict[str, int] = field(default_factory=dict)
    formats: dict[str, int] = field(default_factory=dict)
    values: dict[str, int] | None = field(default_factory=dict)  # None once past ENUM_MAX_VALUES
    properties: dict[str, Shape] = field(default_factory=dict)
    items: Shape | None = None

    def size(self) -> int:
        """Return the number of positions in this shape, itself included."""
        total = 1 + sum(child.size() for child in self.properties.values())
        return total + (self.items.size() if self.items is not None else 0)

    def observe(
        self, value: Any, name: str = "", depth: int = 0, budget: _Budget | None = None
    ) -> None:
        """Add one parsed JSON value; ``name`` is the member name it sat under."""
        if budget is None:
            budget = _Budget(MAX_SHAPE_NODES - self.size())
        self.count += 1
        kind = _json_type(value)
        _add(self.types, kind)
        if kind == "string":
            self._observe_string(name, value)
        elif depth >= MAX_DEPTH:
            return
        elif kind == "object":
            for key, member in value.items():
                key = str(key)
                child = self.properties.get(key)
                if child is None:
                    if len(self.properties) >= MAX_PROPERTIES or not budget.take():
                        continue
                    child = self.properties[key] = Shape()
                child.observe(member, key, depth + 1, budget)
        elif kind == "array":
            if self.items is None:
                if not budget.take():
                    return
                self.items = Shape()
            for member in value[:MAX_ITEMS_SAMPLED]:
                self.items.observe(member, name, depth + 1, budget)

    def observe_text(self, text: str, name: str = "") -> None:
        """Add a parameter value sent as text (query, header, cookie)."""
        self.count += 1
        kind = scalar_type(text)
        _add(self.types, kind)
        if kind == "string":
            self._observe_string(name, text)

    def _observe_string(self, name: str, value: str) -> None:
        string_kind = string_format(value)
        if string_kind is not None:
            _add(self.formats, string_kind)
            self.values = None
            return
        if self.values is None:
            return
        if not _enum_candidate(name, value):
            self.values = None
            return
        _add(self.values, value)
        if len(self.values) > ENUM_MAX_VALUES:
            self.values = None

    def merge(self, other: Shape, budget: _Budget | None = None) -> None:
        """Add ``other``'s counts into this shape, growing it by at most ``MAX_SHAPE_NODES``."""
        if budget is None:
            budget = _Budget(MAX_SHAPE_NODES - self.size())
        self.count += other.count
        for key, amount in other.types.items():
            _add(self.types, key, amount)
        for key, amount in other.formats.items():
            _add(self.formats, key, amount)
        if self.values is None or other.values is None:
            self.values = None
        else:
            for key, amount in other.values.items():
                _add(self.values, key, amount)
            if len(self.values) > ENUM_MAX_VALUES:
                self.values = None
        for key, child in other.properties.items():
            mine = self.properties.get(key)
            if mine is None:
                if len(self.properties) >= MAX_PROPERTIES or not budget.take():
                    continue
                mine = self.properties[key] = Shape()
            mine.merge(child, budget)
        if other.items is not None:
            if self.items is None:
                if not budget.take():
                    return
                self.items = Shape()
            self.items.merge(other.items, budget)

    def property_paths(self, prefix: str = "") -> list[str]:
        """List every member as a dotted path (``items[]`` for array members)."""
        paths: list[str] = []
        for key, child in self.properties.items():
            path = f"{prefix}.{key}" if prefix else key
            paths.append(path)
            paths.extend(child.property_paths(path))
        if self.items is not None:
            paths.extend(self.items.property_paths(f"{prefix}[]"))
        return paths

    def to_json_schema(self) -> dict[str, Any]:
        """Render the counts as a JSON Schema (2020-12, as OpenAPI 3.1 uses it)."""
        schema: dict[str, Any] = {}
        types = [name for name in _JSON_TYPES if self.types.get(name)]
        if "integer" in types and "number" in types:
            types.remove("integer")
        if len(types) == 1:
            schema["type"] = types[0]
        elif types:
            schema["type"] = types
        strings = self.types.get("string", 0)
        if strings and len(self.formats) == 1:
            ((name, amount),) = self.formats.items()
            if amount == strings:
                schema["format"] = name
        if (
            self.values
            and strings >= ENUM_MIN_SAMPLES
            and sum(self.values.values()) == strings
            and types == ["string"]
        ):
            schema["enum"] = sorted(self.values)
        if self.properties:
            objects = self.types.get("object", 0)
            schema["properties"] = {
                key: child.to_json_schema() for key, child in sorted(self.properties.items())
            }
            required = sorted(
                key for key, child in self.properties.items() if child.count >= objects
            )
            if required:
                schema["required"] = required
        if self.items is not None and self.items.count:
            schema["items"] = self.items.to_json_schema()
        return schema

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"count": self.count, "types": dict(self.types)}
        if self.formats:
            data["formats"] = dict(self.formats)
        data["values"] = None if self.values is None else dict(self.values)
        if self.properties:
            data["properties"] = {key: child.to_dict() for key, child in self.properties.items()}
        if self.items is not None:
            data["items"] = self.items.to_dict()
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Shape:
        values = data.get("values", {})
        shape = cls(
            count=int(data.get("count", 0)),
            types=dict(data.get("types", {})),
            formats=dict(data.get("formats", {})),
            values=None if values is None else dict(values),
        )
        shape.properties = {
            key: cls.from_dict(child) for key, child in data.get("properties", {}).items()
        }
        if data.get("items") is not None:
            shape.items = cls.from_dict(data["items"])
        return shape
