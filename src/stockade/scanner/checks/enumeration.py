"""User enumeration (API2:2023): login or registration responses tell usernames apart.

A known username with a wrong password and an unknown username are each
sent twice. A finding needs the two responses for the same kind of attempt
to match each other and the two kinds to differ (status or body, tokens
and other long strings masked). Registration is probed with an existing
username and a fresh one, which creates one account.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from stockade.events.model import Severity
from stockade.scanner import login
from stockade.scanner.client import Reply
from stockade.scanner.context import ScanContext
from stockade.scanner.findings import Finding
from stockade.scanner.openapi import Operation
from stockade.scanner.similarity import signature

NAME = "enumeration"
SUMMARY = "User enumeration through different login or registration responses"
CATEGORY = "API2:2023"
CWE = 204
REMEDIATION = ("Respond to every failed login with the same status and message, and spend the "
               "same time on unknown usernames (hash a dummy password).")


async def run(ctx: ScanContext) -> list[Finding]:
    findings = []
    form = login.find_login(ctx)
    if form is None:
        ctx.note("enumeration: skipped for login, no login profile names the login operation")
    elif ctx.allows(form.operation):
        finding = await _compare(
            ctx, form.operation,
            lambda: form.attempt(form.username, login.wrong_password()),
            lambda: form.attempt(login.unknown_username(), login.wrong_password()),
            f"known username {form.username!r} with a wrong password", "an unknown username")
        if finding is not None:
            findings.append(finding)
    for operation in login.find_registration(ctx):
        if not ctx.allows(operation) or form is None:
            continue
        body = ctx.values.body(operation.body_schema)
        field = next((name for name in body if "user" in name.lower() or "email" in name.lower()),
                     None)
        if field is None:
            continue
        finding = await _compare(ctx, operation, _fixed_body({**body, field: form.username}),
                                 _fresh_user_body(body, field),
                                 f"taken username {form.username!r}", "a fresh username")
        if finding is not None:
            findings.append(finding)
    return findings


def _fixed_body(body: dict[str, Any]) -> Callable[[], dict[str, Any]]:
    return lambda: dict(body)


def _fresh_user_body(body: dict[str, Any], field: str) -> Callable[[], dict[str, Any]]:
    return lambda: {**body, field: login.unknown_username()}


async def _compare(ctx: ScanContext, operation: Operation, known: Callable[[], dict[str, Any]],
                   unknown: Callable[[], dict[str, Any]],
                   known_label: str, unknown_label: str) -> Finding | None:
    replies: list[Reply] = []
    for make in (known, unknown, known, unknown):
        replies.append(await ctx.call(operation, None, body=make()))
    sigs = [signature(reply) for reply in replies]
    if sigs[0] != sigs[2] or sigs[1] != sigs[3] or sigs[0] == sigs[1]:
        return None
    if any(reply.status == 429 for reply in replies):
        return None
    return ctx.finding(
        kind="user-enumeration", check=NAME, severity=Severity.MEDIUM, category=CATEGORY,
        operation=operation, cwe=CWE, remediation=REMEDIATION,
        title=f"{operation.label} tells existing usernames apart",
        detail=(f"{operation.label} responds to a {known_label} ({replies[0].status}) differently "
                f"from {unknown_label} ({replies[1].status}), the same way each time, so "
                "anyone can test which usernames exist."),
        evidence=[(replies[0], known_label), (replies[1], unknown_label)])
