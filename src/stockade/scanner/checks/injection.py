"""Injection (API8:2019): SQL, NoSQL operators and OS commands, per parameter.

Confirmation rules:

- SQL error-based: a quote raises a database error message that neither
  the unmodified request nor the balanced quote raises, twice;
- SQL boolean-based: a true and a false condition give stable, different
  responses, a second true/false pair gives the same two responses, and the
  true response is 2xx;
- SQL and OS command time-based: see ``stockade.scanner.timing``;
- NoSQL: a body member or query parameter sent as ``{"$ne": x}`` succeeds
  (2xx, not an error body) where the plain value fails, ``{"$gt": ""}``
  succeeds the same way, and ``{"$eq": x}`` fails like the plain value.

DELETE operations get no payloads, and PUT/PATCH no OR-based SQL.
"""

from __future__ import annotations

import functools
import json
from typing import Any

from stockade.events.model import Severity
from stockade.scanner import payloads, timing
from stockade.scanner.client import Reply
from stockade.scanner.context import ScanContext
from stockade.scanner.findings import Finding
from stockade.scanner.points import InjectionPoint, points_of
from stockade.scanner.resources import own_path_values
from stockade.scanner.similarity import looks_like_failure, signature

NAME = "injection"
SUMMARY = "Injection: SQL (error, boolean, time), NoSQL operators, OS commands"
CATEGORY = "API8:2019"
SQL_FIX = ("Pass values to the database as bound parameters of prepared statements; never "
           "build SQL text from input.")
NOSQL_FIX = ("Accept only the declared scalar type for each field and never pass request "
             "objects to the database as query conditions.")
COMMAND_FIX = ("Do not run a shell with request data; call the program with an argument list "
               "and validate the value against a strict format first.")


async def run(ctx: ScanContext) -> list[Finding]:
    findings: list[Finding] = []
    for operation in ctx.operations:
        if operation.method == "DELETE" or not ctx.allows(operation):
            continue
        session = ctx.session_for(operation) if operation.requires_auth else None
        path_values = await own_path_values(ctx, session, operation)
        points = [point for point in points_of(ctx, operation, path_values) if not point.is_url]
        if not points:
            continue
        original = await _read_back(ctx, points[0])
        base = await timing.baseline(functools.partial(points[0].send, ctx, points[0].base))
        for point in points:
            findings += await _probe_point(ctx, point, base)
        if original:
            await ctx.call(operation, points[0].session, path_values=path_values,
                           body=original)
    return findings


async def _read_back(ctx: ScanContext, point: InjectionPoint) -> dict[str, Any] | None:
    """Read the stored values of the members a PUT or PATCH probe overwrites, to restore them."""
    operation = point.operation
    reader = ctx.api.find("GET", operation.path)
    if operation.method not in ("PUT", "PATCH") or reader is None or not point.body:
        return None
    reply = await ctx.call(reader, point.session, path_values=point.path_values)
    stored = reply.json() if reply.ok else None
    if not isinstance(stored, dict):
        return None
    return {name: stored[name] for name in point.body if name in stored}


async def _probe_point(ctx: ScanContext, point: InjectionPoint, base: float) -> list[Finding]:
    found: list[Finding] = []
    for probe in (_sql_error, _sql_boolean):
        finding = await probe(ctx, point)
        if finding is not None:
            found.append(finding)
    if base <= timing.MAX_BASELINE_SECONDS:
        finding = await _sql_time(ctx, point, base)
        if finding is not None:
            found.append(finding)
    if point.kind == "string":
        finding = await _nosql(ctx, point)
        if finding is not None:
            found.append(finding)
        if base <= timing.MAX_BASELINE_SECONDS:
            finding = await _command(ctx, point, base)
            if finding is not None:
                found.append(finding)
    return found


def _text(point: InjectionPoint, suffix: str) -> str:
    return f"{point.base}{suffix}"


def _sql_error_in(reply: Reply) -> str | None:
    text = reply.text.lower()
    return next((sig for sig in payloads.SQL_ERROR_SIGNATURES if sig in text), None)


def _finding(ctx: ScanContext, point: InjectionPoint, kind: str, title: str, detail: str,
             fix: str, evidence: list[tuple[Reply, str]], cwe: int) -> Finding:
    return ctx.finding(kind=kind, check=NAME, title=title, severity=Severity.CRITICAL,
                       category=CATEGORY, operation=point.operation, cwe=cwe,
                       detail=detail, remediation=fix, evidence=evidence)


async def _sql_error(ctx: ScanContext, point: InjectionPoint) -> Finding | None:
    plain = await point.send(ctx, point.base)
    if _sql_error_in(plain):
        return None
    for payload, balanced in payloads.SQL_ERROR_PAYLOADS:
        first = await point.send(ctx, _text(point, payload))
        message = _sql_error_in(first)
        if message is None:
            continue
        control = await point.send(ctx, _text(point, balanced))
        again = await point.send(ctx, _text(point, payload))
        if _sql_error_in(control) is None and _sql_error_in(again) == message:
            return _finding(
                ctx, point, "sqli-error", f"SQL injection (error-based) in {point.label}",
                f"Appending {payload} to {point.label} makes the response carry the database "
                f"error '{message}', twice; the balanced {balanced} does not.", SQL_FIX,
                [(plain, "the unmodified request"), (first, "the quote raises a SQL error"),
                 (control, "the balanced quote does not"), (again, "the error repeats")], 89)
    return None


async def _sql_boolean(ctx: ScanContext, point: InjectionPoint) -> Finding | None:
    pairs: tuple[tuple[str, str, str, str], ...]
    if point.kind == "string":
        pairs = (payloads.SQL_BOOLEAN_READ if point.operation.method == "GET"
                 else payloads.SQL_BOOLEAN_WRITE)
    else:
        pairs = payloads.SQL_BOOLEAN_NUMERIC if point.operation.method == "GET" else ()
    for true_1, false_1, true_2, false_2 in pairs:
        replies = [await point.send(ctx, _text(point, text))
                   for text in (true_1, false_1, true_1, false_1)]
        sigs = [signature(reply, _text(point, text)) for reply, text
                in zip(replies, (true_1, false_1, true_1, false_1), strict=True)]
        if not replies[0].ok or sigs[0] == sigs[1] or sigs[0] != sigs[2] or sigs[1] != sigs[3]:
            continue
        second_true = await point.send(ctx, _text(point, true_2))
        second_false = await point.send(ctx, _text(point, false_2))
        if (signature(second_true, _text(point, true_2)) == sigs[0]
                and signature(second_false, _text(point, false_2)) == sigs[1]):
            return _finding(
                ctx, point, "sqli-boolean", f"SQL injection (boolean-based) in {point.label}",
                f"{point.label} responds one way to the condition {true_1.strip()!r} and "
                f"another to {false_1.strip()!r}, repeatably, and a second pair "
                f"({true_2.strip()!r} / {false_2.strip()!r}) gives the same two responses.",
                SQL_FIX, [(replies[0], "true condition"), (replies[1], "false condition"),
                          (second_true, "second true condition"),
                          (second_false, "second false condition")], 89)
    return None


async def _timed(ctx: ScanContext, point: InjectionPoint, base: float, templates: tuple[str, ...],
                 kind: str, title: str, fix: str, cwe: int) -> Finding | None:
    delay = ctx.settings.time_delay
    for template in templates:
        async def send(seconds: float, template: str = template) -> Reply:
            return await point.send(ctx, _text(point, payloads.fill_delay(template, seconds)))
        replies = await timing.confirm_delay(send, base, delay)
        if replies is not None:
            shown = payloads.fill_delay(template, delay)
            return _finding(
                ctx, point, kind, f"{title} in {point.label}",
                f"Appending {json.dumps(shown)} to {point.label} delays the response by the "
                f"requested time: {replies[0].elapsed:.2f} s for {delay:g} s, "
                f"{replies[1].elapsed:.2f} s for 0 s, {replies[2].elapsed:.2f} s for "
                f"{2 * delay:g} s, {replies[3].elapsed:.2f} s for {delay:g} s again "
                f"(baseline {base:.2f} s).", fix,
                [(replies[0], f"{delay:g} s requested"), (replies[1], "0 s requested"),
                 (replies[2], f"{2 * delay:g} s requested"),
                 (replies[3], f"{delay:g} s requested again")], cwe)
    return None


async def _sql_time(ctx: ScanContext, point: InjectionPoint, base: float) -> Finding | None:
    templates = (payloads.SQL_TIME_STRING if point.kind == "string"
                 else payloads.SQL_TIME_NUMERIC)
    return await _timed(ctx, point, base, templates, "sqli-time",
                        "SQL injection (time-based)", SQL_FIX, 89)


async def _command(ctx: ScanContext, point: InjectionPoint, base: float) -> Finding | None:
    return await _timed(ctx, point, base, payloads.COMMAND_TIME, "os-command-injection",
                        "OS command injection (time-based)", COMMAND_FIX, 78)


def _operator(template: dict[str, str], marker: str) -> dict[str, str]:
    return {key: value.replace("{marker}", marker) for key, value in template.items()}


async def _nosql(ctx: ScanContext, point: InjectionPoint) -> Finding | None:
    marker = ctx.values.marker()
    if point.location == "body":
        async def send(value: Any) -> Reply:
            return await point.send(ctx, value)
    elif point.location == "query":
        async def send(value: Any) -> Reply:
            if isinstance(value, dict):
                operator, operand = next(iter(value.items()))
                return await point.send_raw_query(ctx, f"{point.name}[{operator}]", operand)
            return await point.send(ctx, value)
    else:
        return None
    plain = await send(marker)
    if not looks_like_failure(plain):
        return None  # a value the API accepts anyway proves nothing
    true_replies = [await send(_operator(op, marker)) for op in payloads.NOSQL_TRUE_OPERATORS]
    false_reply = await send(_operator(payloads.NOSQL_FALSE_OPERATOR, marker))
    if any(looks_like_failure(reply) for reply in true_replies):
        return None
    if signature(true_replies[0]) != signature(true_replies[1]):
        return None
    if signature(false_reply) != signature(plain):
        return None
    return _finding(
        ctx, point, "nosql-injection", f"NoSQL operator injection in {point.label}",
        f"Sending {point.label} as the operator object {{\"$ne\": ...}} or "
        "{\"$gt\": \"\"} succeeds where a plain wrong value fails, and {\"$eq\": ...} fails "
        "like the plain value: the value is evaluated as a query condition.", NOSQL_FIX,
        [(plain, "a plain wrong value fails"), (true_replies[0], "$ne succeeds"),
         (true_replies[1], "$gt succeeds"), (false_reply, "$eq fails like the plain value")],
        943)
