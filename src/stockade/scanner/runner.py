"""Run a scan: load the document, log in, start the canary, run each check."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Protocol

from stockade.scanner.auth import AuthProfile, Session, authenticate
from stockade.scanner.canary import Canary
from stockade.scanner.checks import CHECKS
from stockade.scanner.client import (
    DEFAULT_CONCURRENCY,
    DEFAULT_TIMEOUT_SECONDS,
    ScanClient,
    ScanRequestError,
    Target,
    TargetError,
)
from stockade.scanner.context import ScanContext
from stockade.scanner.findings import Finding, sort_findings
from stockade.scanner.openapi import ApiDocument, load_document
from stockade.scanner.planning import ScanSettings, validate_settings
from stockade.scanner.redaction import Redactor
from stockade.scanner.values import ValueFactory

log = logging.getLogger(__name__)

THROTTLED_SHARE_NOTED = 0.05
"""Share of 429 responses above which the result notes that the target throttled the scan."""
FORBIDDEN_STREAK_NOTED = 50
"""403 responses in a row, up to the end of a scan, after which it notes that it was blocked."""


class ScanProgress(Protocol):
    def check_started(self, name: str, summary: str) -> None: ...
    def check_finished(self, name: str, findings: int) -> None: ...
    def request_sent(self) -> None: ...


@dataclass(slots=True)
class ScanConfig:
    target: str
    openapi: str
    profiles: list[AuthProfile]
    settings: ScanSettings = field(default_factory=ScanSettings)
    rate: float | None = None  # requests per second, None: unlimited
    concurrency: int = DEFAULT_CONCURRENCY
    timeout: float = DEFAULT_TIMEOUT_SECONDS
    verify_tls: bool = True
    canary: bool = True
    headers: dict[str, str] = field(default_factory=dict)  # added to every request


@dataclass(slots=True)
class ScanResult:
    target: str
    document: str
    started: float
    finished: float
    findings: list[Finding]
    notes: list[str]
    errors: list[str]  # checks that failed, with the reason
    requests: int
    checks: list[str]


async def run_scan(config: ScanConfig, progress: ScanProgress | None = None) -> ScanResult:
    """Scan ``config.target``; raise ValueError subclasses for unusable input."""
    validate_settings(config.settings)
    target = Target.parse(config.target)
    started = time.time()
    client = ScanClient(target, rate=config.rate, concurrency=config.concurrency,
                        timeout=config.timeout, verify_tls=config.verify_tls,
                        headers=config.headers)
    canary = await Canary().start() if config.canary else None
    try:
        api = await load_document(client, config.openapi)
        if target.base_path:
            # A path in the target URL replaces the path of the document's server URL.
            for operation in api.operations:
                operation.url_path = target.base_path + operation.path
        sessions = [await authenticate(client, profile) for profile in config.profiles]
        ctx = _context(client, api, config, sessions, canary)
        log.info("scan of %s started: %d operations selected, %d profiles",
                 target.origin, len(ctx.operations), len(sessions))
        if progress is not None:
            ctx.on_request = progress.request_sent
        findings, errors, ran = await _run_checks(ctx, config.settings, progress)
        _note_throttling(ctx)
    finally:
        if canary is not None:
            await canary.stop()
        await client.close()
    log.info("scan of %s finished: %d findings, %d requests, %d check errors",
             target.origin, len(findings), client.stats.sent, len(errors))
    return ScanResult(target.origin + target.base_path, api.source, started, time.time(),
                      sort_findings(findings), ctx.notes, errors, client.stats.sent, ran)


def _context(client: ScanClient, api: ApiDocument, config: ScanConfig, sessions: list[Session],
             canary: Canary | None) -> ScanContext:
    users = [session for session in sessions if session.role == "user"]
    admins = [session for session in sessions if session.role == "admin"]
    key_names = [str(profile.key_name) for profile in config.profiles if profile.key_name]
    redactor = Redactor([secret for session in sessions for secret in session.secrets],
                        key_names)
    values = ValueFactory(canary.base_url if canary is not None else None)
    return ScanContext(client, api, config.settings, users,
                       admins[0] if admins else None, redactor, values, canary)


async def _run_checks(ctx: ScanContext, settings: ScanSettings,
                      progress: ScanProgress | None) -> tuple[list[Finding], list[str], list[str]]:
    findings: list[Finding] = []
    errors: list[str] = []
    ran: list[str] = []
    for check in CHECKS:
        if settings.checks is not None and check.name not in settings.checks:
            continue
        ran.append(check.name)
        if progress is not None:
            progress.check_started(check.name, check.summary)
        found: list[Finding] = []
        try:
            found = await check.run(ctx)
        except (ScanRequestError, TargetError) as exc:
            # One check's transport failure should not lose the other checks' findings.
            log.warning("check %s failed: %s", check.name, exc)
            errors.append(f"{check.name}: {exc}")
        findings += found
        if progress is not None:
            progress.check_finished(check.name, len(found))
    return _dedupe(findings), errors, ran


def _note_throttling(ctx: ScanContext) -> None:
    stats = ctx.client.stats
    throttled = stats.by_status.get(429, 0)
    if stats.sent and throttled / stats.sent > THROTTLED_SHARE_NOTED:
        ctx.note(f"the target returned 429 to {throttled} of {stats.sent} requests, so checks "
                 "may have missed findings; scan again with a lower --rate")
    # A secure API refuses many probes but still serves the scanner's own calls between
    # them. An unbroken run of 403s to the end means the scanner itself was refused.
    streak = stats.forbidden_streak
    if streak >= FORBIDDEN_STREAK_NOTED:
        ctx.note(f"the last {streak} of {stats.sent} requests all got 403, so the results are "
                 "incomplete. A WAF or gateway in front of the API may have blocked the "
                 "scanner's address (Stockade's deny list does after repeated critical "
                 "events); scan the API directly or allow the scanner's address")


def _dedupe(findings: list[Finding]) -> list[Finding]:
    unique: dict[str, Finding] = {}
    for finding in findings:
        unique.setdefault(finding.fingerprint, finding)
    return list(unique.values())
