"""The WAF as a gateway pipeline stage: layer "waf", phases 1-2 and 3-4.

The stage runs the engine in blocking form (SecRuleEngine On). The
pipeline decides whether a reject reaches the client, from the policy's
mode for the "waf" layer. Matches that do not block become security
events too.
"""

from __future__ import annotations

import hashlib
import logging
from typing import TYPE_CHECKING, Final

from stockade.gateway.pipeline import CONTINUE, Phase, StageRegistry, Verdict, reject
from stockade.waf.crs import CrsInstall, find_crs, shared_ruleset, tenant_engine
from stockade.waf.engine import Engine
from stockade.waf.events import match_event, security_event
from stockade.waf.request import WafRequest, WafResponse
from stockade.waf.transaction import Transaction

if TYPE_CHECKING:
    from stockade.events.model import SecurityEvent
    from stockade.gateway.exchange import Exchange
    from stockade.gateway.routing import RouteContext
    from stockade.waf.config import WafPolicy

log = logging.getLogger(__name__)

STAGE_ORDER = 400  # after auth (200) and rate limiting (300), before API protection (500)
STATE_KEY = "waf"
LAYER: Final = "waf"
ENGINE_ERROR_STATUS = 500


class WafStage:
    name = "waf"
    layer = LAYER
    phases = frozenset(Phase)
    synchronous = True  # check never awaits

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def wants_request_body(self, exchange: Exchange) -> bool:
        return self.engine.ruleset.settings.request_body_access

    def wants_response_body(self, exchange: Exchange) -> bool:
        settings = self.engine.ruleset.settings
        response = exchange.response
        if not settings.response_body_access or response is None:
            return False
        content_type = (response.fields.get(b"content-type") or b"").partition(b";")[0]
        mime = content_type.strip().lower().decode("latin-1")
        return mime in settings.response_body_mime_types

    def check(self, exchange: Exchange, phase: Phase) -> Verdict:
        transaction = self._transaction(exchange)
        seen = len(transaction.matches)
        try:
            self._run(transaction, exchange, phase)
        except Exception:
            # A WAF that fails open is a bypass, so an engine bug rejects the request.
            log.exception("WAF engine failed on request %s in phase %s", exchange.request_id,
                          int(phase))
            return reject(ENGINE_ERROR_STATUS, "waf-engine-error", "internal error")
        return self._verdict(exchange, transaction, seen)

    def _transaction(self, exchange: Exchange) -> Transaction:
        transaction = exchange.state.get(STATE_KEY)
        if isinstance(transaction, Transaction):
            return transaction
        transaction = self.engine.transaction(waf_request(exchange))
        exchange.state[STATE_KEY] = transaction
        return transaction

    def _run(self, transaction: Transaction, exchange: Exchange, phase: Phase) -> None:
        if phase is Phase.REQUEST_HEADERS:
            transaction.process_request_headers()
        elif phase is Phase.REQUEST_BODY:
            transaction.request.body = exchange.body or b""
            transaction.request.body_truncated = exchange.body_truncated
            transaction.process_request_body()
        elif phase is Phase.RESPONSE_HEADERS and exchange.response is not None:
            transaction.process_response_headers(waf_response(exchange))
            if not self.wants_response_body(exchange):
                transaction.process_response_body()
                transaction.process_logging()
        elif phase is Phase.RESPONSE_BODY:
            if transaction.response is not None:
                transaction.response.body = exchange.response_body or b""
            transaction.process_response_body()
            transaction.process_logging()
        if transaction.interruption is not None:
            transaction.process_logging()

    def _verdict(self, exchange: Exchange, transaction: Transaction, seen: int) -> Verdict:
        interruption = transaction.interruption
        new_matches = transaction.matches[seen:]
        if interruption is not None and not exchange.state.get("waf_reported"):
            exchange.state["waf_reported"] = True
            event = security_event(exchange, transaction, blocked=True)
            blocked_events: tuple[SecurityEvent, ...] = (event,) if event is not None else ()
            location = interruption.location
            fields = ((b"Location", location.encode("utf-8", "surrogateescape")),) \
                if location else ()
            return reject(interruption.status, f"waf-rule-{interruption.rule_id}", "forbidden",
                          events=blocked_events, fields=fields,
                          close=interruption.action == "drop")
        if not new_matches:
            return CONTINUE
        events = tuple(match_event(exchange, transaction, match) for match in new_matches)
        return Verdict(events=events)


def waf_request(exchange: Exchange) -> WafRequest:
    head = exchange.request
    return WafRequest(
        method=head.method,
        target=head.target,
        protocol=b"HTTP/" + head.version,
        headers=list(head.fields),
        client_address=exchange.client.address,
        client_port=exchange.client.port,
        unique_id=exchange.request_id,
    )


def waf_response(exchange: Exchange) -> WafResponse:
    response = exchange.response
    if response is None:
        raise ValueError("waf_response called before the response head arrived")
    return WafResponse(response.status, list(response.fields), b"",
                       b"HTTP/" + response.version)


def _engine_key(install: CrsInstall, policy: WafPolicy) -> str:
    digest = hashlib.sha256(policy.model_dump_json().encode()).hexdigest()[:16]
    return f"waf:engine:{install.path.resolve()}:{digest}"


def create_stage(context: RouteContext) -> WafStage | None:
    """Build the WAF stage of one route, sharing rule sets and engines between routes."""
    policy = context.policy.waf
    if policy is None:
        return None
    install = find_crs(policy.crs_path)
    resources = context.resources
    ruleset = shared_ruleset(resources, install, tuple(policy.extra_rule_files))
    engine: Engine = resources.get_or_create(
        _engine_key(install, policy), lambda: tenant_engine(ruleset, install, policy))
    return WafStage(engine)


def register(registry: StageRegistry) -> None:
    registry.register(STAGE_ORDER, "waf", create_stage)
