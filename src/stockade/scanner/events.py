"""Findings as security events of a tenant, written through the store."""

from __future__ import annotations

import hashlib
from typing import Any

from stockade.events.model import Action, SecurityEvent
from stockade.scanner.findings import Finding
from stockade.store.events import insert_events
from stockade.store.scope import Store

LAYER = "scanner"
ACTOR = "stockade-scan"
MAX_EVENT_EVIDENCE = 2
"""Evidence exchanges copied into an event; the full set stays in the scan report."""


def _event_id(tenant: str, finding: Finding, scan_started: float) -> str:
    """Derive the event id from the tenant, the finding and the scan, so a repeat stores once."""
    text = f"{tenant}\n{finding.fingerprint}\n{scan_started!r}"
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def findings_to_events(findings: list[Finding], tenant: str, scan_started: float,
                       service: str | None = None) -> list[SecurityEvent]:
    events = []
    for finding in findings:
        evidence: dict[str, Any] = {
            "finding_id": finding.fingerprint, "category": finding.category,
            "cwe": finding.cwe, "detail": finding.detail, "remediation": finding.remediation,
            "exchanges": [item.to_dict() for item in finding.evidence[:MAX_EVENT_EVIDENCE]],
        }
        events.append(SecurityEvent(
            tenant=tenant, layer=LAYER, kind=finding.kind, severity=finding.severity,
            action=Action.OBSERVED, message=finding.title, service=service,
            method=None if finding.method == "*" else finding.method, path=finding.path,
            rule_ids=[f"scan:{finding.kind}"], evidence=evidence, time=scan_started,
            id=_event_id(tenant, finding, scan_started)))
    return events


def store_findings(store: Store, tenant: str, findings: list[Finding], scan_started: float,
                   service: str | None = None) -> int:
    """Insert the findings as events of ``tenant``; return how many were new.

    Raises stockade.store.errors.NotFound when the tenant does not exist.
    """
    events = findings_to_events(findings, tenant, scan_started, service)
    with store.session(tenant, ACTOR) as scope:
        scope.require_tenant(tenant)
        return insert_events(scope, events)
