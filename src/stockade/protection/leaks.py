"""Data leaks in responses: sensitive data classes and error pages. Layer ``leaks``.

Responses are scanned with the sensitive data classes that discovery uses.
Classes in ``report_classes`` are reported, classes in ``mask_classes`` are
replaced by asterisks in block mode (a card number keeps its last four
digits), and classes in ``block_classes`` withhold the whole response with
502. Stack traces and framework error pages withhold the response too,
since they tell an attacker the stack, file paths and often the query.

Only bodies the gateway buffered whole (up to 1 MiB) are rewritten; a
longer body is reported but never masked.
"""

from __future__ import annotations

import json
from typing import Any

import re2

from stockade.events.model import Action, Severity
from stockade.gateway.exchange import Exchange
from stockade.gateway.pipeline import CONTINUE, Phase, Verdict, reject
from stockade.gateway.routing import RouteContext
from stockade.protection.config import LeakProtection
from stockade.protection.inputs import (
    MISSING,
    forget_response_json,
    is_json_type,
    response_json,
    response_media_type,
)
from stockade.protection.sensitive import (
    SensitiveClass,
    SensitiveMatch,
    find_sensitive_spans,
    scan_json,
)

LAYER = "leaks"
RESPONSE_BUFFER_MAX = 1024 * 1024
"""The gateway's response buffer; a body longer than this was cut and is never rewritten."""
MASK_CHAR = "*"
KEEP_CARD_DIGITS = 4
"""Trailing digits of a card number left visible, as receipts print them."""
TEXT_TYPES = frozenset(
    {"text/plain", "text/html", "application/xml", "text/xml", "application/problem+json"}
)

ERROR_PAGE_MARKERS = (
    "Traceback (most recent call last)",
    '"traceback":',
    'Exception in thread "',
    "at java.base/",
    "at org.springframework.",
    "Whitelabel Error Page",
    "System.NullReferenceException",
    "Server Error in '/' Application",
    "at System.Web.",
    "Werkzeug Debugger",
    "<title>Django",
    "You're seeing this error because you have DEBUG = True",
    "ActionController::RoutingError",
    "PHP Fatal error:",
    "PHP Warning:",
    "Stack trace:\n#0 ",
    "SQLSTATE[",
    "You have an error in your SQL syntax",
    "OperationalError: ",
    "psycopg2.errors.",
    "ORA-00933",
    "Microsoft OLE DB Provider for",
    "node:internal/",
    "    at Object.<anonymous>",
    "goroutine 1 [running]",
)
"""Texts that appear in stack traces and default error pages of common stacks."""

_MARKERS = re2.compile("|".join(re2.escape(marker) for marker in ERROR_PAGE_MARKERS))


def error_page_marker(text: str) -> str | None:
    """Return the first stack trace or error page marker found in ``text``."""
    found = _MARKERS.search(text)
    return found.group(0) if found else None


def mask_text(text: str, kind: SensitiveClass) -> str:
    if kind is SensitiveClass.CREDIT_CARD:
        digits_seen = 0
        chars = list(text)
        for index in range(len(chars) - 1, -1, -1):
            if chars[index].isdigit():
                digits_seen += 1
                if digits_seen > KEEP_CARD_DIGITS:
                    chars[index] = MASK_CHAR
        return "".join(chars)
    return MASK_CHAR * len(text)


def _mask_string(value: str, spans: list[SensitiveMatch]) -> str:
    for match in sorted(spans, key=lambda item: item.start, reverse=True):
        value = (
            value[: match.start]
            + mask_text(value[match.start : match.end], match.kind)
            + value[match.end :]
        )
    return value


def mask_json(document: Any, matches: list[SensitiveMatch]) -> Any:
    """Mask the matched spans in place, each found by its JSON pointer; return the document."""
    by_pointer: dict[str, list[SensitiveMatch]] = {}
    for match in matches:
        by_pointer.setdefault(match.path, []).append(match)
    for pointer, spans in by_pointer.items():
        tokens = [token.replace("~1", "/").replace("~0", "~") for token in pointer.split("/")[1:]]
        if not tokens:
            if isinstance(document, str):
                document = _mask_string(document, spans)
            continue
        parent: Any = document
        for token in tokens[:-1]:
            parent = parent[int(token)] if isinstance(parent, list) else parent.get(token)
        last: Any = int(tokens[-1]) if isinstance(parent, list) else tokens[-1]
        value = parent[last]
        parent[last] = _mask_string(value if isinstance(value, str) else str(value), spans)
    return document


class LeakStage:
    name = "protection.leaks"
    layer = LAYER
    phases = frozenset({Phase.RESPONSE_BODY})
    synchronous = True  # check never awaits

    def __init__(self, settings: LeakProtection, block: bool) -> None:
        self.settings = settings
        self.block = block
        self.report = frozenset(settings.report_classes)
        self.mask = frozenset(settings.mask_classes)
        self.deny = frozenset(settings.block_classes)
        self.classes = self.report | self.mask | self.deny

    def wants_request_body(self, exchange: Exchange) -> bool:
        return False

    def wants_response_body(self, exchange: Exchange) -> bool:
        kind = response_media_type(exchange)
        return is_json_type(kind) or kind in TEXT_TYPES

    def check(self, exchange: Exchange, phase: Phase) -> Verdict:
        body = exchange.response_body
        if not body or exchange.response is None:
            return CONTINUE
        text = body.decode("utf-8", "replace")
        if self.settings.stack_traces:
            marker = error_page_marker(text)
            if marker is not None:
                event = exchange.event(
                    LAYER,
                    "stack-trace",
                    "response carries a stack trace or framework error page",
                    Severity.MEDIUM,
                    evidence={"marker": marker[:60], "status": exchange.response.status},
                )
                return reject(
                    502, "stack-trace", "the upstream response was withheld", events=(event,)
                )
        document = response_json(exchange)
        if document is not MISSING:
            matches = [item for item in scan_json(document) if item.kind in self.classes]
        else:
            matches = [item for item in find_sensitive_spans(text) if item.kind in self.classes]
        if not matches:
            return CONTINUE
        return self._verdict(exchange, document, text, matches)

    def _verdict(
        self, exchange: Exchange, document: Any, text: str, matches: list[SensitiveMatch]
    ) -> Verdict:
        kinds = sorted({item.kind.value for item in matches})
        evidence = {"classes": kinds, "pointers": sorted({item.path for item in matches})[:20]}
        denied = [item for item in matches if item.kind in self.deny]
        if denied:
            event = exchange.event(
                LAYER,
                "sensitive-data-leak",
                "response carries a blocked sensitive data class",
                Severity.HIGH,
                evidence=evidence,
            )
            return reject(
                502,
                "sensitive-data-leak",
                "the upstream response was withheld",
                severity=Severity.HIGH,
                events=(event,),
            )
        masked = [item for item in matches if item.kind in self.mask]
        if masked:
            event = exchange.event(
                LAYER,
                "sensitive-data-masked",
                "response carries sensitive data that the policy masks",
                Severity.MEDIUM,
                evidence=evidence,
            )
            body = exchange.response_body or b""
            if not self.block:
                return reject(502, "sensitive-data-masked", "", events=(event,))
            if len(body) > RESPONSE_BUFFER_MAX:
                # NOTE: the body was cut at the buffer; it streams on unmasked, and is reported.
                return Verdict(events=(event,))
            if document is not MISSING:
                exchange.response_body = json.dumps(
                    mask_json(document, masked), separators=(",", ":")
                ).encode()
                forget_response_json(exchange)
            else:
                exchange.response_body = _mask_string(text, masked).encode()
            event.action = Action.BLOCKED
            exchange.events.append(event)
            return CONTINUE
        event = exchange.event(
            LAYER,
            "sensitive-data",
            "response carries sensitive data",
            Severity.LOW,
            action=Action.OBSERVED,
            evidence=evidence,
        )
        return Verdict(events=(event,))


def build_leak_stage(context: RouteContext) -> LeakStage | None:
    policy = context.policy.protection
    if policy is None or policy.leaks is None:
        return None
    return LeakStage(policy.leaks, context.policy.mode_of(LAYER) == "block")
