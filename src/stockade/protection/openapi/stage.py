"""The positive security stage: layer ``openapi``.

Requests must match a declared operation (404 for an unknown path, 405
with ``Allow`` for an undeclared method), carry valid parameters (400) and
a declared media type (415) with a valid JSON body (400). Responses are
checked for undeclared properties (excessive data exposure). In block mode
they are stripped, or the response is withheld with 502, as
``response_exposure`` sets it. In detect mode they are reported.
"""

from __future__ import annotations

import json

from stockade.events.model import Action, SecurityEvent, Severity
from stockade.gateway.exchange import Exchange
from stockade.gateway.pipeline import CONTINUE, Phase, Verdict, reject
from stockade.gateway.routing import RouteContext
from stockade.protection.config import OpenApiProtection
from stockade.protection.inputs import (
    MISSING,
    cookies,
    forget_response_json,
    is_json_type,
    query_pairs,
    request_json,
    request_media_type,
    response_json,
    response_media_type,
)
from stockade.protection.openapi.exposure import MAX_FINDINGS, find_exposures, strip
from stockade.protection.openapi.lookup import document_for, operation_of
from stockade.protection.openapi.operations import CompiledDocument, Operation
from stockade.protection.openapi.validation import (
    RequestParts,
    Violation,
    check_body,
    check_parameters,
    summary,
)

LAYER = "openapi"
RESPONSE_BUFFER_MAX = 1024 * 1024
"""The gateway's response buffer; a longer buffered body is incomplete and never rewritten."""

REJECTS = {
    "mass-assignment": (400, "mass-assignment", Severity.HIGH),
    "readonly-property": (400, "readonly-property", Severity.HIGH),
    "content-type": (415, "openapi-media-type", Severity.LOW),
    "parameter": (400, "openapi-parameter-invalid", Severity.MEDIUM),
    "body": (400, "openapi-body-invalid", Severity.MEDIUM),
}
"""Violation kind to (status, reason, severity); earlier entries win when several occur."""


class OpenApiStage:
    name = "protection.openapi"
    layer = LAYER
    phases = frozenset({Phase.REQUEST_HEADERS, Phase.REQUEST_BODY, Phase.RESPONSE_BODY})
    synchronous = True  # check never awaits

    def __init__(
        self, settings: OpenApiProtection, document: CompiledDocument, block: bool
    ) -> None:
        self.settings = settings
        self.document = document
        self.block = block
        self.extra_names = frozenset(
            "".join(c for c in name.lower() if c.isalnum()) for name in settings.sensitive_names
        )

    def _operation(self, exchange: Exchange) -> Operation | None:
        match = operation_of(exchange, self.document)
        return match.operation if match is not None else None

    def wants_request_body(self, exchange: Exchange) -> bool:
        operation = self._operation(exchange)
        return (
            self.settings.validate_body
            and operation is not None
            and any(validator is not None for validator in operation.body_validators.values())
        )

    def wants_response_body(self, exchange: Exchange) -> bool:
        operation = self._operation(exchange)
        response = exchange.response
        return (
            operation is not None
            and response is not None
            and operation.checks_responses
            and is_json_type(response_media_type(exchange))
        )

    def check(self, exchange: Exchange, phase: Phase) -> Verdict:
        if phase is Phase.REQUEST_HEADERS:
            return self._check_head(exchange)
        if phase is Phase.REQUEST_BODY:
            return self._check_body(exchange)
        return self._check_response(exchange)

    def _check_head(self, exchange: Exchange) -> Verdict:
        match = operation_of(exchange, self.document)
        if match is None:
            if self.settings.unknown_operation == "allow":
                return CONTINUE
            return reject(
                404,
                "openapi-unknown-path",
                "not found",
                severity=Severity.LOW,
                events=(
                    self._event(
                        exchange,
                        "openapi-unknown-path",
                        "path is not declared in the OpenAPI document",
                        Severity.LOW,
                        {},
                    ),
                ),
            )
        if match.operation is None:
            if self.settings.unknown_operation == "allow":
                return CONTINUE
            allow = ", ".join(match.allowed).encode("ascii")
            return reject(
                405,
                "openapi-unknown-method",
                "method not allowed",
                severity=Severity.LOW,
                fields=((b"Allow", allow),),
                events=(
                    self._event(
                        exchange,
                        "openapi-unknown-method",
                        "method is not declared for this path",
                        Severity.LOW,
                        {"allowed": list(match.allowed)},
                    ),
                ),
            )
        if not self.settings.validate_parameters:
            return CONTINUE
        parts = self._parts(exchange, match.operation, match.params, with_body=False)
        return self._verdict(exchange, check_parameters(match.operation, parts))

    def _check_body(self, exchange: Exchange) -> Verdict:
        match = operation_of(exchange, self.document)
        if match is None or match.operation is None or not self.settings.validate_body:
            return CONTINUE
        parts = self._parts(exchange, match.operation, match.params, with_body=True)
        return self._verdict(exchange, check_body(match.operation, parts))

    def _parts(self, exchange: Exchange, operation: Operation, params: dict[str, str],
               with_body: bool) -> RequestParts:
        fields = exchange.request.fields
        places = operation.parameter_places
        headers = {
            name.decode("latin-1").lower(): value.decode("latin-1") for name, value in fields
        } if "header" in places else {}
        body = request_json(exchange) if with_body else MISSING
        has_body = bool(exchange.body) if with_body else False
        return RequestParts(
            params,
            query_pairs(exchange) if "query" in places else [],
            headers,
            cookies(fields) if "cookie" in places else {},
            request_media_type(exchange),
            has_body,
            body,
            body is not MISSING,
        )

    def _verdict(self, exchange: Exchange, violations: list[Violation]) -> Verdict:
        if not violations:
            return CONTINUE
        kinds = {violation.kind for violation in violations}
        status, reason, severity = next(REJECTS[kind] for kind in REJECTS if kind in kinds)
        event = self._event(
            exchange,
            reason,
            f"request violates the OpenAPI document ({reason})",
            severity,
            {"violations": summary(violations)},
        )
        message = "; ".join(f"{item.where}: {item.message}" for item in violations[:3])
        return reject(
            status, reason, f"invalid request: {message}", severity=severity, events=(event,)
        )

    def _check_response(self, exchange: Exchange) -> Verdict:
        operation = self._operation(exchange)
        response = exchange.response
        if operation is None or response is None or exchange.response_body is None:
            return CONTINUE
        validator = operation.response_validator(response.status, response_media_type(exchange))
        document = response_json(exchange)
        if validator is None or document is MISSING:
            return CONTINUE
        exposures = find_exposures(validator, document, self.extra_names)
        if not exposures:
            return CONTINUE

        sensitive = any(item.sensitive for item in exposures)
        severity = Severity.HIGH if sensitive else Severity.MEDIUM
        evidence: dict[str, object] = {
            "properties": [
                {
                    "pointer": item.pointer,
                    "classes": list(item.classes),
                    "declared_closed": item.declared_closed,
                }
                for item in exposures[:MAX_FINDINGS]
            ],
            "count": len(exposures),
        }
        message = "response carries properties the OpenAPI document does not declare"
        event = self._event(exchange, "excessive-data-exposure", message, severity, evidence)

        policy = self.settings.response_exposure
        if policy == "report":
            return Verdict(events=(event,))
        complete = len(exchange.response_body) <= RESPONSE_BUFFER_MAX
        if policy == "strip" and self.block and complete:
            exchange.response_body = json.dumps(
                strip(document, exposures), separators=(",", ":")
            ).encode()
            forget_response_json(exchange)
            # Blocked means the leak was stopped: the client got the response without them.
            event.action = Action.BLOCKED
            event.message = "undeclared response properties were removed before forwarding"
            evidence["response"] = "stripped"
            exchange.events.append(event)
            return CONTINUE
        return reject(
            502,
            "excessive-data-exposure",
            "the upstream response was withheld",
            severity=severity,
            events=(event,),
        )

    @staticmethod
    def _event(
        exchange: Exchange, kind: str, message: str, severity: Severity, evidence: dict[str, object]
    ) -> SecurityEvent:
        return exchange.event(LAYER, kind, message, severity, evidence=evidence)


def build_openapi_stage(context: RouteContext) -> OpenApiStage | None:
    policy = context.policy.protection
    if policy is None or policy.openapi is None:
        return None
    document = document_for(context, policy.openapi.reject_undeclared_properties)
    if document is None:
        return None
    return OpenApiStage(policy.openapi, document, context.policy.mode_of(LAYER) == "block")
