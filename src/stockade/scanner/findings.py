"""Findings: what a check confirmed, with the exchanges that prove it."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from stockade.events.model import Severity

MAX_EVIDENCE_BODY_CHARS = 4096
"""Characters of a request or response body kept in a finding, to bound report size."""


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    method: str
    url: str
    headers: list[tuple[str, str]]
    body: str = ""


@dataclass(frozen=True, slots=True)
class RecordedResponse:
    status: int
    headers: list[tuple[str, str]]
    body: str = ""
    elapsed_seconds: float = 0.0


@dataclass(frozen=True, slots=True)
class Evidence:
    """One exchange that supports a finding, already redacted."""

    note: str
    request: RecordedRequest
    response: RecordedResponse | None = None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "note": self.note,
            "request": {
                "method": self.request.method,
                "url": self.request.url,
                "headers": [list(pair) for pair in self.request.headers],
                "body": self.request.body,
            },
            "response": None,
        }
        if self.response is not None:
            data["response"] = {
                "status": self.response.status,
                "headers": [list(pair) for pair in self.response.headers],
                "body": self.response.body,
                "elapsed_seconds": round(self.response.elapsed_seconds, 3),
            }
        return data


@dataclass(slots=True)
class Finding:
    """A confirmed vulnerability of one operation (or of the whole target)."""

    kind: str  # machine name, e.g. "bola", "jwt-alg-none", "sqli-time"
    check: str  # the check family that found it, e.g. "authentication"
    title: str
    severity: Severity
    category: str  # OWASP API Security Top 10 id, e.g. "API1:2023"
    method: str  # "*" when the finding concerns the whole target
    path: str  # the OpenAPI path template, or the probed path
    detail: str
    remediation: str
    evidence: list[Evidence] = field(default_factory=list)
    cwe: int | None = None
    url_path: str = ""  # ``path`` with the server's base path in front; empty: same as path

    @property
    def request_path(self) -> str:
        """The path (or template) as a client sends it, base path included."""
        return self.url_path or self.path

    @property
    def fingerprint(self) -> str:
        """A stable id of what was found and where, the same in every scan."""
        text = "\n".join((self.kind, self.method, self.path))
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.fingerprint,
            "kind": self.kind,
            "check": self.check,
            "title": self.title,
            "severity": self.severity.name.lower(),
            "category": self.category,
            "cwe": self.cwe,
            "method": self.method,
            "path": self.path,
            "detail": self.detail,
            "remediation": self.remediation,
            "evidence": [item.to_dict() for item in self.evidence],
        }


def parse_severity(text: str) -> Severity:
    """Return the severity named ``text`` (info, low, medium, high, critical)."""
    try:
        return Severity[text.strip().upper()]
    except KeyError:
        names = ", ".join(level.name.lower() for level in Severity)
        raise ValueError(f"invalid severity {text!r}; use one of {names}") from None


def at_or_above(findings: list[Finding], threshold: Severity) -> list[Finding]:
    return [finding for finding in findings if finding.severity >= threshold]


def sort_findings(findings: list[Finding]) -> list[Finding]:
    """Order findings most severe first, then by path and method, for stable reports."""
    return sorted(findings, key=lambda item: (-item.severity, item.path, item.method, item.kind))


KIND_SUMMARIES = {
    "bola": "Users reach objects of other users (BOLA)",
    "bfla": "Normal users run admin-only operations (BFLA)",
    "missing-authentication": "Protected operation responds without credentials",
    "malformed-token-accepted": "Malformed bearer token accepted",
    "jwt-alg-none": "Unsigned JWT with alg none accepted",
    "jwt-signature-not-verified": "JWT signature not verified",
    "jwt-weak-secret": "JWT HMAC key is a dictionary word",
    "jwt-expired-accepted": "Expired JWT accepted",
    "jwt-key-confusion": "RSA public key accepted as an HMAC key",
    "token-in-query": "Access token accepted in the URL",
    "mass-assignment": "Undeclared privileged properties stored (mass assignment)",
    "excessive-data-exposure": "Undeclared sensitive fields in responses",
    "sqli-error": "SQL injection, error-based",
    "sqli-boolean": "SQL injection, boolean-based",
    "sqli-time": "SQL injection, time-based",
    "nosql-injection": "NoSQL operator injection",
    "os-command-injection": "OS command injection, time-based",
    "ssrf": "Server-side request forgery",
    "no-rate-limit": "No rate limit on an expensive operation",
    "no-login-rate-limit": "No rate limit on login",
    "cors-any-origin": "CORS reflects any origin with credentials",
    "missing-security-headers": "Security headers missing",
    "version-disclosure": "Response headers name the software stack",
    "verbose-errors": "Errors reveal stack traces",
    "debug-endpoint": "Debug endpoint reachable",
    "unsupported-method-200": "Undeclared method returns 2xx",
    "user-enumeration": "Login or registration tells usernames apart",
    "deprecated-operation-served": "Deprecated operation still serves",
    "undocumented-endpoint": "Undocumented endpoint responds",
}
"""One line per finding kind, for report rule lists and documentation."""
