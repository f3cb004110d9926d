"""Findings as security events of a tenant, and as a finished scan of its service.

Both go through the store's own functions: ``stockade.store.events`` for
the events and ``stockade.store.scans`` for the scan record that the admin
API lists under a tenant's scans.
"""

from __future__ import annotations

import hashlib
from typing import Any

from stockade.events.model import Action, SecurityEvent
from stockade.scanner.findings import Finding
from stockade.store.events import insert_events
from stockade.store.scans import create_scan, update_scan
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


def finding_summary(finding: Finding) -> dict[str, Any]:
    """The fields of a finding kept in a scan record; the evidence stays in the events."""
    return {"id": finding.fingerprint, "kind": finding.kind, "severity":
            finding.severity.name.lower(), "category": finding.category,
            "method": finding.method, "path": finding.path, "title": finding.title}


def store_findings(store: Store, tenant: str, findings: list[Finding], scan_started: float,
                   service: str | None = None) -> int:
    """Insert the findings as events of ``tenant``; return how many were new.

    With a ``service`` the scan is also recorded as a finished scan of that
    service, with a summary of each finding. Raises
    stockade.store.errors.NotFound when the tenant or the service does not exist.
    """
    events = findings_to_events(findings, tenant, scan_started, service)
    with store.session(tenant, ACTOR) as scope:
        scope.require_tenant(tenant)
        inserted = insert_events(scope, events)
        if service is not None:
            scan = create_scan(scope, tenant, service)
            update_scan(scope, tenant, scan["scan_id"], "finished",
                        [finding_summary(finding) for finding in findings])
        return inserted
