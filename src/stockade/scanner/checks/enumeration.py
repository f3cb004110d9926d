"""User enumeration (API2:2023): login or registration responses tell usernames apart.

A known username with a wrong password and an unknown username are each
sent twice. A finding needs the two responses for the same kind of attempt
to match each other and the two kinds to differ (status or body, tokens
and other long strings masked). Registration is probed with a taken
username and fresh ones, which creates two accounts. Its responses are
compared by status and member names only, because every new account
gets its own id.
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
from stockade.scanner.similarity import shape, signature

NAME = "enumeration"
SUMMARY = "User enumeration through different login or registration responses"
CATEGORY = "API2:2023"
CWE = 204
REMEDIATION = ("Respond to every failed login with the same status and message, and spend the "
               "same time on unknown usernames (hash a dummy password).")


async def run(ctx: ScanContext) -> list[Finding]:
    findings: list[Finding] = []
    form = login.find_login(ctx)
    known = form.username if form is not None else None
    if form is None or known is None:
        ctx.note("enumeration: skipped, it needs a login profile with a username known to "
                 "exist")
        return findings
    if ctx.allows(form.operation):
        finding = await _compare(
            ctx, form.operation,
            lambda: form.attempt(known, login.wrong_password()),
            lambda: form.attempt(login.unknown_username(), login.wrong_password()),
            f"known username {known!r} with a wrong password", "an unknown username")
        if finding is not None:
            findings.append(finding)
    for operation in login.find_registration(ctx):
        if not ctx.allows(operation):
            continue
        finding = await _check_registration(ctx, operation, known)
        if finding is not None:
            findings.append(finding)
    return findings


def _user_field(body: dict[str, Any]) -> str | None:
    """Return the member of a registration body that names the account."""
    names = list(body)
    for wanted in ("username", "user", "login", "email"):
        found = next((name for name in names if wanted in name.lower()), None)
        if found is not None:
            return found
    return None


async def _check_registration(ctx: ScanContext, operation: Operation,
                              taken: str) -> Finding | None:
    schema = operation.body_schema
    field = _user_field(ctx.values.body(schema))
    if field is None:
        return None

    def with_name(name: Callable[[], str]) -> Callable[[], dict[str, Any]]:
        # Fresh values for every other member, so that a second sign-up is not
        # refused for a repeated email address.
        return lambda: {**ctx.values.body(schema), field: name()}

    return await _compare(ctx, operation, with_name(lambda: taken),
                          with_name(login.unknown_username), f"taken username {taken!r}",
                          "a fresh username", compare=shape, severity=Severity.LOW)


async def _compare(ctx: ScanContext, operation: Operation, known: Callable[[], dict[str, Any]],
                   unknown: Callable[[], dict[str, Any]], known_label: str, unknown_label: str,
                   compare: Callable[[Reply], str] = signature,
                   severity: Severity = Severity.MEDIUM) -> Finding | None:
    replies: list[Reply] = []
    for make in (known, unknown, known, unknown):
        replies.append(await ctx.call(operation, None, body=make()))
    sigs = [compare(reply) for reply in replies]
    if sigs[0] != sigs[2] or sigs[1] != sigs[3] or sigs[0] == sigs[1]:
        return None
    if any(reply.status == 429 for reply in replies):
        return None
    return ctx.finding(
        kind="user-enumeration", check=NAME, severity=severity, category=CATEGORY,
        operation=operation, cwe=CWE, remediation=REMEDIATION,
        title=f"{operation.label} tells existing usernames apart",
        detail=(f"{operation.label} responds to a {known_label} ({replies[0].status}) differently "
                f"from {unknown_label} ({replies[1].status}), the same way each time, so "
                "anyone can test which usernames exist."),
        evidence=[(replies[0], known_label), (replies[1], unknown_label)])
