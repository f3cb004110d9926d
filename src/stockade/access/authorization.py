"""The authorization stage: consumer and group lists, required scopes and claim conditions."""

from __future__ import annotations

from typing import Any

from stockade.access.config import AccessPolicy, ClaimCondition
from stockade.auth.challenge import insufficient_scope
from stockade.events.model import Severity
from stockade.gateway.exchange import Consumer, Exchange
from stockade.gateway.pipeline import CONTINUE, Phase, Verdict, reject
from stockade.gateway.routing import RouteContext

AUTHORIZATION_STAGE_ORDER = 250
MAX_CLAIM_PATH_DEPTH = 8  # dots followed in a claim path such as org.team.role
BEARER_METHODS = frozenset({"jwt", "introspection"})


class AuthorizationStage:
    name = "access.authz"
    layer = "access"
    phases = frozenset({Phase.REQUEST_HEADERS})
    synchronous = True  # check never awaits

    def __init__(self, policy: AccessPolicy, realm: str) -> None:
        self.policy = policy
        self._realm = realm
        self._groups_allow = frozenset(policy.groups_allow)
        self._groups_deny = frozenset(policy.groups_deny)
        self._consumers_allow = frozenset(policy.consumers_allow)
        self._consumers_deny = frozenset(policy.consumers_deny)
        self._scopes = frozenset(policy.scopes)

    def wants_request_body(self, exchange: Exchange) -> bool:
        return False

    def wants_response_body(self, exchange: Exchange) -> bool:
        return False

    def check(self, exchange: Exchange, phase: Phase) -> Verdict:
        consumer = exchange.consumer
        if consumer is None:
            return self._deny(
                exchange, "consumer-anonymous", "route has access rules but no consumer was found"
            )
        if consumer.id in self._consumers_deny:
            return self._deny(exchange, "consumer-denied", "consumer is in consumers_deny")
        if self._consumers_allow and consumer.id not in self._consumers_allow:
            return self._deny(
                exchange, "consumer-not-allowed", "consumer is not in consumers_allow"
            )
        denied_groups = consumer.groups & self._groups_deny
        if denied_groups:
            return self._deny(
                exchange,
                "group-denied",
                "consumer is in a denied group",
                {"groups": sorted(denied_groups)},
            )
        if self._groups_allow and not consumer.groups & self._groups_allow:
            return self._deny(
                exchange, "group-not-allowed", "consumer is in none of the allowed groups"
            )
        missing = self._scopes - consumer.scopes
        if missing:
            return self._deny_scope(exchange, consumer, sorted(missing))
        for condition in self.policy.claims:
            if not claim_holds(consumer.claims, condition):
                return self._deny(
                    exchange,
                    "claim-condition-failed",
                    "a claim condition does not hold",
                    {"claim": condition.claim},
                )
        return CONTINUE

    def _deny_scope(self, exchange: Exchange, consumer: Consumer, missing: list[str]) -> Verdict:
        verdict = self._deny(
            exchange, "insufficient-scope", "token lacks required scopes", {"missing": missing}
        )
        if consumer.auth_method not in BEARER_METHODS:
            return verdict
        return reject(
            403,
            verdict.reason,
            verdict.message,
            events=verdict.events,
            fields=(insufficient_scope(self._realm, sorted(self._scopes)),),
        )

    @staticmethod
    def _deny(
        exchange: Exchange, reason: str, message: str, evidence: dict[str, Any] | None = None
    ) -> Verdict:
        event = exchange.event("access", reason, message, Severity.MEDIUM, evidence=evidence)
        return reject(403, reason, "forbidden", events=(event,))


def claim_holds(claims: dict[str, Any], condition: ClaimCondition) -> bool:
    value = claim_at(claims, condition.claim)
    if condition.equals is not None:
        return _same(value, condition.equals)
    if condition.one_of is not None:
        return any(_same(value, option) for option in condition.one_of)
    expected = condition.contains
    if isinstance(value, list):
        return any(_same(item, expected) for item in value)
    if isinstance(value, str) and isinstance(expected, str):
        return expected in value.split()
    return False


def claim_at(claims: dict[str, Any], path: str) -> Any:
    """Follow a dotted path; a claim whose own name contains dots is tried whole first."""
    if path in claims:
        return claims[path]
    value: Any = claims
    for part in path.split(".")[:MAX_CLAIM_PATH_DEPTH]:
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def _same(value: Any, expected: Any) -> bool:
    """Equal and of the same type, so that true never matches 1 and "1" never matches 1."""
    return type(value) is type(expected) and value == expected


def build_authorization_stage(context: RouteContext) -> AuthorizationStage | None:
    policy = context.policy.access
    if policy is None or not policy.has_consumer_rules():
        return None
    realm = context.policy.auth.realm if context.policy.auth else "stockade"
    return AuthorizationStage(policy, realm)
