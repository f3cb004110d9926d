"""Counts the inventory keeps for one endpoint: a method and a path template."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from stockade.protection.discovery.schema import Shape

PARAM_LOCATIONS = ("query", "header", "cookie")

MAX_PARAMS_PER_ENDPOINT = 256
"""Parameter names kept per location; clients choose names, so random ones must not pile up."""

MAX_KEYS_PER_COUNT = 64
"""Distinct keys kept in each count table (content types, status codes, auth schemes)."""

OTHER_KEY = "other"
"""Key that counts whatever arrived past a table's limit."""


def _add_counts(target: dict[str, int], source: dict[str, int]) -> None:
    for key, amount in source.items():
        if key not in target and len(target) >= MAX_KEYS_PER_COUNT:
            key = OTHER_KEY
        target[key] = target.get(key, 0) + amount


@dataclass(slots=True)
class ParamStats:
    """A query, header or cookie parameter: how often it came, and its values' shape."""

    count: int = 0
    shape: Shape = field(default_factory=Shape)

    def merge(self, other: ParamStats) -> None:
        self.count += other.count
        self.shape.merge(other.shape)

    def to_dict(self) -> dict[str, Any]:
        return {"count": self.count, "shape": self.shape.to_dict()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ParamStats:
        return cls(int(data["count"]), Shape.from_dict(data["shape"]))


@dataclass(slots=True)
class EndpointStats:
    """Counts for one endpoint; two of them merge by adding, so no hit is ever lost."""

    method: str
    template: str
    hits: int = 0
    first_seen: float = 0.0
    last_seen: float = 0.0
    statuses: dict[str, int] = field(default_factory=dict)
    request_types: dict[str, int] = field(default_factory=dict)
    response_types: dict[str, int] = field(default_factory=dict)
    params: dict[str, dict[str, ParamStats]] = field(
        default_factory=lambda: {location: {} for location in PARAM_LOCATIONS}
    )
    request_body: Shape | None = None
    response_bodies: dict[str, Shape] = field(default_factory=dict)  # by status code
    sampled: int = 0  # exchanges whose bodies were inspected
    auth: dict[str, int] = field(default_factory=dict)
    sensitive_request: dict[str, int] = field(default_factory=dict)
    sensitive_response: dict[str, int] = field(default_factory=dict)
    last_request_id: str | None = None

    @property
    def key(self) -> tuple[str, str]:
        return self.method, self.template

    def merge(self, other: EndpointStats) -> None:
        """Add ``other``'s counts into this endpoint, whatever template ``other`` had."""
        if other.hits:
            self.first_seen = (
                min(self.first_seen, other.first_seen) if self.hits else other.first_seen
            )
            self.last_seen = max(self.last_seen, other.last_seen)
        if other.last_request_id and other.last_seen >= self.last_seen:
            self.last_request_id = other.last_request_id
        self.hits += other.hits
        self.sampled += other.sampled
        for mine, theirs in (
            (self.statuses, other.statuses),
            (self.request_types, other.request_types),
            (self.response_types, other.response_types),
            (self.auth, other.auth),
            (self.sensitive_request, other.sensitive_request),
            (self.sensitive_response, other.sensitive_response),
        ):
            _add_counts(mine, theirs)
        for location, names in other.params.items():
            target = self.params.setdefault(location, {})
            for name, stats in names.items():
                if name in target:
                    target[name].merge(stats)
                elif len(target) < MAX_PARAMS_PER_ENDPOINT:
                    target[name] = ParamStats.from_dict(stats.to_dict())
        if other.request_body is not None:
            if self.request_body is None:
                self.request_body = Shape()
            self.request_body.merge(other.request_body)
        for status, shape in other.response_bodies.items():
            self.response_bodies.setdefault(status, Shape()).merge(shape)

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "template": self.template,
            "hits": self.hits,
            "first_seen": self.first_seen,
            "last_seen": self.last_seen,
            "statuses": self.statuses,
            "request_types": self.request_types,
            "response_types": self.response_types,
            "params": {
                location: {name: stats.to_dict() for name, stats in names.items()}
                for location, names in self.params.items()
            },
            "request_body": self.request_body.to_dict() if self.request_body else None,
            "response_bodies": {
                status: shape.to_dict() for status, shape in self.response_bodies.items()
            },
            "sampled": self.sampled,
            "auth": self.auth,
            "sensitive_request": self.sensitive_request,
            "sensitive_response": self.sensitive_response,
            "last_request_id": self.last_request_id,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EndpointStats:
        endpoint = cls(
            data["method"],
            data["template"],
            int(data["hits"]),
            float(data["first_seen"]),
            float(data["last_seen"]),
            dict(data["statuses"]),
            dict(data["request_types"]),
            dict(data["response_types"]),
        )
        endpoint.params = {
            location: {name: ParamStats.from_dict(stats) for name, stats in names.items()}
            for location, names in data["params"].items()
        }
        if data.get("request_body") is not None:
            endpoint.request_body = Shape.from_dict(data["request_body"])
        endpoint.response_bodies = {
            status: Shape.from_dict(shape)
            for status, shape in data.get("response_bodies", {}).items()
        }
        endpoint.sampled = int(data.get("sampled", 0))
        endpoint.auth = dict(data.get("auth", {}))
        endpoint.sensitive_request = dict(data.get("sensitive_request", {}))
        endpoint.sensitive_response = dict(data.get("sensitive_response", {}))
        endpoint.last_request_id = data.get("last_request_id")
        return endpoint

    def copy_as(self, template: str) -> EndpointStats:
        data = self.to_dict()
        data["template"] = template
        return EndpointStats.from_dict(data)
