"""Unrestricted resource consumption (API4:2023): no rate limit on login or costly operations.

A bounded burst is sent: failed logins for an unknown username (so that
no real account is locked), and repeated calls of expensive operations
(exports, reports, downloads: found by path words or by a file media type
in the response). A finding means that every request of the burst was
served, and none returned 429 or 503 or carried Retry-After. A limit
higher than the burst goes unseen, so the finding states how many were
sent.
"""

from __future__ import annotations

from stockade.events.model import Severity
from stockade.scanner import login
from stockade.scanner.client import Reply
from stockade.scanner.context import ScanContext
from stockade.scanner.findings import Finding
from stockade.scanner.openapi import Operation
from stockade.scanner.resources import is_admin_only, split

NAME = "ratelimit"
SUMMARY = "Missing rate limits on login and expensive operations"
CATEGORY = "API4:2023"
LIMITED_STATUSES = (429, 503)
EXPENSIVE_WORDS = ("export", "report", "reports", "download", "bulk", "backup", "dump",
                   "generate", "pdf", "csv", "batch", "archive")
FILE_MEDIA_WORDS = ("csv", "pdf", "zip", "octet-stream", "spreadsheet", "excel")


def _limited(reply: Reply) -> bool:
    return reply.status in LIMITED_STATUSES or "retry-after" in reply.headers


async def run(ctx: ScanContext) -> list[Finding]:
    findings = []
    for operation in _expensive(ctx):
        finding = await _burst_expensive(ctx, operation)
        if finding is not None:
            findings.append(finding)
    form = login.find_login(ctx)
    if form is None:
        ctx.note("ratelimit: login not probed, no login profile or POST .../login operation "
                 "names the login")
    elif ctx.allows(form.operation):
        finding = await _burst_login(ctx, form)
        if finding is not None:
            findings.append(finding)
    return findings


def _expensive(ctx: ScanContext) -> list[Operation]:
    found = []
    for operation in ctx.operations:
        if operation.method != "GET" or operation.path_params or not ctx.allows(operation):
            continue
        words = [*split(operation.path)[-1:], operation.operation_id.lower()]
        by_name = any(word in text for word in EXPENSIVE_WORDS for text in words)
        media = " ".join(operation.response_types)
        by_media = any(word in media for word in FILE_MEDIA_WORDS)
        if by_name or by_media:
            found.append(operation)
    return found


async def _burst_expensive(ctx: ScanContext, operation: Operation) -> Finding | None:
    session = ctx.session_for(operation) if operation.requires_auth else None
    if is_admin_only(operation) and ctx.admin is None:
        return None
    count = ctx.settings.expensive_probes
    replies = [await ctx.call(operation, session) for _ in range(count)]
    if not all(reply.ok and not _limited(reply) for reply in replies):
        return None
    if await ctx.is_fallback(replies[0]):
        return None
    return ctx.finding(
        kind="no-rate-limit", check=NAME, severity=Severity.MEDIUM, category=CATEGORY,
        operation=operation, cwe=770, title=f"No rate limit on {operation.label}",
        detail=(f"{count} calls of {operation.label} in a row were all served "
                f"({replies[-1].elapsed:.3f} s for the last one); none was limited."),
        remediation="Limit costly operations per user and per client (429 with Retry-After) "
                    "and cap the work one call may do.",
        evidence=[(replies[0], "first call"), (replies[-1], f"call {count}, still served")])


async def _burst_login(ctx: ScanContext, form: login.LoginForm) -> Finding | None:
    count = ctx.settings.login_probes
    username = login.unknown_username()
    replies = []
    for _ in range(count):
        reply = await ctx.call(form.operation, None,
                               body=form.attempt(username, login.wrong_password()))
        if _limited(reply):
            return None
        replies.append(reply)
    if await ctx.is_fallback(replies[0], form.operation.method):
        return None
    return ctx.finding(
        kind="no-login-rate-limit", check=NAME, severity=Severity.HIGH, category="API2:2023",
        operation=form.operation, cwe=307, title=f"No rate limit on {form.operation.label}",
        detail=(f"{count} failed logins in a row from one client were all returned "
                f"({', '.join(sorted({str(reply.status) for reply in replies}))}), none "
                "limited or locked out, which lets attackers guess passwords at full speed."),
        remediation="Limit failed logins per username and per client (429 with Retry-After, "
                    "growing lockouts) and alert on credential stuffing.",
        evidence=[(replies[0], "first failed login"), (replies[-1], f"attempt {count}, "
                                                                    "still returned")])
