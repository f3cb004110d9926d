"""Compare what traffic showed with what a service declared.

* shadow: an endpoint seen but not declared;
* zombie: an endpoint still called although its operation is deprecated,
  was removed from an earlier version of the document, or exists only under
  an older version segment (/v1/... when the document declares /v2/...);
* orphan: a declared operation not seen for ``orphan_after`` seconds;
* drift: a declared operation called with undeclared query, header or cookie
  parameters, body fields, status codes or content types.

Each finding has a stable ``key`` so that it is reported once.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from stockade.events.model import Action, SecurityEvent, Severity
from stockade.protection.discovery.declared import DeclaredApi, segments_match
from stockade.protection.discovery.drift import drift_details
from stockade.protection.discovery.endpoint import EndpointStats
from stockade.protection.discovery.inventory import ServiceInventory
from stockade.protection.discovery.shapes import is_version
from stockade.protection.discovery.templating import split_template

UNDECLARED_METHODS_IGNORED = frozenset({"OPTIONS"})
"""CORS preflights reach every endpoint; an undeclared OPTIONS is not a shadow endpoint."""

_SEVERITY = {
    "shadow": Severity.MEDIUM,
    "zombie": Severity.HIGH,
    "orphan": Severity.LOW,
    "drift": Severity.LOW,
}


@dataclass(frozen=True, slots=True)
class Finding:
    kind: str  # shadow, zombie, orphan or drift
    method: str
    template: str
    detail: str  # what exactly, e.g. "query parameter 'debug'"; empty for shadow and orphan
    message: str
    evidence: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)
    request_id: str | None = field(default=None, hash=False, compare=False)

    @property
    def key(self) -> str:
        return f"{self.kind} {self.method} {self.template} {self.detail}".rstrip()

    @property
    def severity(self) -> Severity:
        return _SEVERITY[self.kind]

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "method": self.method,
            "template": self.template,
            "detail": self.detail,
            "message": self.message,
            "evidence": self.evidence,
            "request_id": self.request_id,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Finding:
        return cls(
            data["kind"],
            data["method"],
            data["template"],
            data["detail"],
            data["message"],
            dict(data.get("evidence") or {}),
            data.get("request_id"),
        )

    def to_event(self, tenant: str, service: str) -> SecurityEvent:
        return SecurityEvent(
            tenant=tenant,
            layer="discovery",
            kind=f"api-{self.kind}",
            severity=self.severity,
            action=Action.OBSERVED,
            message=self.message,
            service=service,
            request_id=self.request_id,
            method=self.method,
            path=self.template,
            rule_ids=[f"discovery-{self.kind}"],
            evidence={"detail": self.detail, **self.evidence},
        )


@dataclass(frozen=True, slots=True)
class RetiredOperation:
    """An operation that an earlier version of the document declared and the current one drops."""

    method: str
    path: str
    version: str


def _evidence(endpoint: EndpointStats) -> dict[str, Any]:
    return {
        "hits": endpoint.hits,
        "first_seen": endpoint.first_seen,
        "last_seen": endpoint.last_seen,
        "statuses": dict(endpoint.statuses),
        "auth": sorted(endpoint.auth),
        "sensitive": sorted({*endpoint.sensitive_request, *endpoint.sensitive_response}),
    }


def _version_number(segment: str) -> tuple[int, ...]:
    """Return the numbers of a version segment: v2.1beta3 -> (2, 1)."""
    end = 1
    while end < len(segment) and (segment[end].isdigit() or segment[end] == "."):
        end += 1
    return tuple(int(part) for part in segment[1:end].split(".") if part.isdigit())


def _newer_version_declared(declared: DeclaredApi, method: str, template: str) -> str | None:
    """Return the newer declared path when ``template`` differs from it only by an older version."""
    observed = split_template(template)
    for operation in declared.operations:
        if operation.method != method or len(operation.segments) != len(observed):
            continue
        newer = False
        for mine, theirs in zip(operation.segments, observed, strict=True):
            if mine == theirs or (mine.startswith("{") and mine.endswith("}")):
                continue
            if (
                is_version(mine)
                and is_version(theirs)
                and _version_number(mine) > _version_number(theirs)
            ):
                newer = True
                continue
            break
        else:
            if newer:
                return operation.path
    return None


def _retired_match(
    retired: Iterable[RetiredOperation], method: str, template: str, better_than: int
) -> RetiredOperation | None:
    """Return the retired operation that matches more literal segments than ``better_than``."""
    observed = split_template(template)
    best: RetiredOperation | None = None
    for operation in retired:
        if operation.method != method:
            continue
        score = segments_match(split_template(operation.path), observed)
        if score > better_than:
            best, better_than = operation, score
    return best


def _retired_finding(operation: RetiredOperation, endpoint: EndpointStats) -> Finding:
    method, template = endpoint.key
    return Finding(
        "zombie",
        method,
        template,
        f"removed after version {operation.version}",
        f"{method} {template} is still called but was removed from the "
        f"declared API after version {operation.version}",
        _evidence(endpoint),
        endpoint.last_request_id,
    )


def _undeclared_endpoint(
    declared: DeclaredApi, endpoint: EndpointStats, retired: Iterable[RetiredOperation]
) -> Finding | None:
    method, template = endpoint.key
    evidence = _evidence(endpoint)
    gone = _retired_match(retired, method, template, -1)
    if gone is not None:
        return _retired_finding(gone, endpoint)
    newer = _newer_version_declared(declared, method, template)
    if newer is not None:
        return Finding(
            "zombie",
            method,
            template,
            f"superseded by {newer}",
            f"{method} {template} is an older API version still called; the declared "
            f"API has {newer}",
            evidence,
            endpoint.last_request_id,
        )
    if method in UNDECLARED_METHODS_IGNORED:
        return None
    return Finding(
        "shadow",
        method,
        template,
        "",
        f"{method} {template} is called but not declared in the OpenAPI document",
        evidence,
        endpoint.last_request_id,
    )


def compare_endpoint(
    declared: DeclaredApi, endpoint: EndpointStats, retired: Iterable[RetiredOperation] = ()
) -> list[Finding]:
    """Return the shadow, zombie and drift findings of one observed endpoint."""
    method, template = endpoint.key
    operation = declared.match(method, template)
    if operation is None:
        finding = _undeclared_endpoint(declared, endpoint, retired)
        return [finding] if finding else []
    # /users/me removed while /users/{id} stays: the retired literal path is the closer match.
    score = segments_match(operation.segments, split_template(template))
    gone = _retired_match(retired, method, template, score)
    if gone is not None:
        return [_retired_finding(gone, endpoint)]
    findings: list[Finding] = []
    if operation.deprecated:
        findings.append(
            Finding(
                "zombie",
                method,
                template,
                "deprecated",
                f"{method} {template} is declared deprecated "
                f"({operation.method} {operation.path}) and still called",
                _evidence(endpoint),
                endpoint.last_request_id,
            )
        )
    for detail in drift_details(declared, operation, endpoint):
        findings.append(
            Finding(
                "drift",
                method,
                template,
                detail,
                f"{method} {template} was called with an undeclared {detail}",
                {**_evidence(endpoint), "declared_path": operation.path},
                endpoint.last_request_id,
            )
        )
    return findings


def find_orphans(
    declared: DeclaredApi,
    inventory: ServiceInventory,
    now: float,
    orphan_after: float,
    watched_since: float,
) -> list[Finding]:
    """Return declared operations not seen for ``orphan_after`` seconds.

    ``watched_since`` is when observation of the service began: an operation
    never seen is an orphan only once the service has been watched that long.
    """
    findings: list[Finding] = []
    for operation in declared.operations:
        declared_segments = operation.segments
        last_seen = 0.0
        for endpoint in inventory.endpoints.values():
            same_method = endpoint.method == operation.method or (
                endpoint.method == "HEAD" and operation.method == "GET"
            )
            if (
                same_method
                and segments_match(declared_segments, split_template(endpoint.template)) >= 0
            ):
                last_seen = max(last_seen, endpoint.last_seen)
        reference = last_seen or watched_since
        if now - reference >= orphan_after:
            seen = "never seen" if not last_seen else f"last seen {now - last_seen:.0f} s ago"
            findings.append(
                Finding(
                    "orphan",
                    operation.method,
                    operation.path,
                    "",
                    f"{operation.method} {operation.path} is declared but {seen}",
                    {"last_seen": last_seen or None, "deprecated": operation.deprecated},
                )
            )
    return findings


def diff_inventory(
    declared: DeclaredApi,
    inventory: ServiceInventory,
    *,
    now: float,
    orphan_after: float,
    retired: Iterable[RetiredOperation] = (),
) -> list[Finding]:
    """Compare a whole inventory with a declared API: every kind of finding, sorted by key."""
    retired = list(retired)
    findings: list[Finding] = []
    for endpoint in inventory.endpoints.values():
        findings.extend(compare_endpoint(declared, endpoint, retired))
    watched_since = inventory.first_seen() or now
    findings.extend(find_orphans(declared, inventory, now, orphan_after, watched_since))
    return sorted(findings, key=lambda finding: finding.key)


def retired_operations(
    previous_version: str | None,
    previous_keys: set[tuple[str, str]],
    current: DeclaredApi,
    earlier: Iterable[RetiredOperation] = (),
) -> list[RetiredOperation]:
    """Return the operations dropped since the document's previous version, plus earlier ones.

    An operation declared again in ``current`` is no longer retired.
    """
    keys = current.keys()
    result = [operation for operation in earlier if (operation.method, operation.path) not in keys]
    if previous_version is not None and previous_version != current.version:
        known = {(operation.method, operation.path) for operation in result}
        for method, path in sorted(previous_keys - keys):
            if (method, path) not in known:
                result.append(RetiredOperation(method, path, previous_version))
    return result
