"""BFLA: broken function level authorization, OWASP API5:2023. Layer ``bfla``.

Privileged operations come from two places: ``bfla.rules`` in the policy
(a path template, methods, and the roles or scopes required) and an
operation extension of the OpenAPI document (``x-required-role`` by
default). A call without a caller gets 401, a caller without one of the
roles or all of the scopes 403. Besides, the stage learns which caller
groups use which privileged operations and reports the first call of a
group to a privileged operation it never used before.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote, unquote

from stockade.events.model import Action, Severity
from stockade.gateway.exchange import Exchange
from stockade.gateway.pipeline import CONTINUE, Phase, Verdict, reject
from stockade.gateway.routing import RouteContext
from stockade.protection.config import BflaProtection, IdentitySettings, RouteRoles
from stockade.protection.identity import Caller, caller_of
from stockade.protection.openapi.lookup import document_for, operation_of
from stockade.protection.openapi.operations import CompiledDocument
from stockade.protection.shared import ErrorLog, state_for
from stockade.protection.state import ProtectionState, StateUnavailable

LAYER = "bfla"
ANONYMOUS_GROUP = "(anonymous)"
NO_GROUP = "(none)"


@dataclass(frozen=True, slots=True)
class Requirement:
    operation: str  # "METHOD template", names the operation in events and learned keys
    roles: frozenset[str]
    scopes: frozenset[str]


def _rule_matches(rule: RouteRoles, method: str, segments: list[str]) -> bool:
    if "*" not in rule.methods and method not in rule.methods:
        return False
    expected = rule.path.split("/")[1:]
    if len(expected) != len(segments):
        return False
    return all(
        (part.startswith("{") and part.endswith("}") and actual) or part == actual
        for part, actual in zip(expected, segments, strict=True)
    )


def _roles(value: object) -> frozenset[str]:
    if isinstance(value, str):
        return frozenset({value})
    if isinstance(value, list):
        return frozenset(str(item) for item in value)
    return frozenset()


class BflaStage:
    name = "protection.bfla"
    layer = LAYER
    phases = frozenset({Phase.REQUEST_HEADERS})

    def __init__(
        self,
        settings: BflaProtection,
        identity: IdentitySettings,
        state: ProtectionState,
        prefix: str,
        tenant: str,
        document: CompiledDocument | None,
    ) -> None:
        self.settings = settings
        self.identity = identity
        self.state = state
        self.prefix = f"{prefix}:{{{quote(tenant, safe='')}}}:bfla"
        self.document = document
        self._errors = ErrorLog("the BFLA state store")

    def wants_request_body(self, exchange: Exchange) -> bool:
        return False

    def wants_response_body(self, exchange: Exchange) -> bool:
        return False

    def requirement(self, exchange: Exchange) -> Requirement | None:
        method = exchange.request.method.decode("latin-1")
        path = exchange.request.path.decode("latin-1")
        segments = [unquote(segment) for segment in path.split("/")[1:]]
        for rule in self.settings.rules:
            if _rule_matches(rule, method, segments):
                return Requirement(
                    f"{method} {rule.path}", frozenset(rule.roles), frozenset(rule.scopes)
                )
        extension = self.settings.openapi_role_extension
        if self.document is not None and extension:
            match = operation_of(exchange, self.document)
            operation = match.operation if match is not None else None
            if operation is not None and extension in operation.extensions:
                return Requirement(
                    f"{operation.method} {operation.template}",
                    _roles(operation.extensions[extension]),
                    frozenset(),
                )
        return None

    async def check(self, exchange: Exchange, phase: Phase) -> Verdict:
        requirement = self.requirement(exchange)
        if requirement is None:
            return CONTINUE
        caller = caller_of(exchange, self.identity)
        if self.settings.learn:
            await self._learn(exchange, caller, requirement)
        if caller is None:
            return self._reject(
                exchange,
                401,
                "bfla-unauthenticated",
                "privileged operation called without credentials",
                requirement,
                frozenset(),
            )
        if requirement.roles and not caller.groups & requirement.roles:
            return self._reject(
                exchange,
                403,
                "bfla-missing-role",
                "caller lacks the role this operation requires",
                requirement,
                caller.groups,
            )
        if not requirement.scopes <= caller.scopes:
            return self._reject(
                exchange,
                403,
                "bfla-missing-scope",
                "caller lacks a scope this operation requires",
                requirement,
                caller.groups,
            )
        return CONTINUE

    def _reject(
        self,
        exchange: Exchange,
        status: int,
        reason: str,
        message: str,
        requirement: Requirement,
        groups: frozenset[str],
    ) -> Verdict:
        event = exchange.event(
            LAYER,
            reason,
            message,
            Severity.HIGH,
            evidence={
                "operation": requirement.operation,
                "required_roles": sorted(requirement.roles),
                "required_scopes": sorted(requirement.scopes),
                "caller_groups": sorted(groups),
            },
        )
        client_message = "authentication required" if status == 401 else "access denied"
        return reject(status, reason, client_message, severity=Severity.HIGH, events=(event,))

    async def _learn(
        self, exchange: Exchange, caller: Caller | None, requirement: Requirement
    ) -> None:
        if caller is None:
            groups = [ANONYMOUS_GROUP]
        else:
            groups = sorted(caller.groups) or [NO_GROUP]
        try:
            for group in groups:
                key = (
                    f"{self.prefix}:seen:{quote(group, safe='')}:"
                    f"{quote(requirement.operation, safe='')}"
                )
                if await self.state.first_seen(key, self.settings.learn_ttl_seconds):
                    exchange.events.append(
                        exchange.event(
                            LAYER,
                            "bfla-new-group",
                            f"group {group!r} called a privileged operation for the first time",
                            Severity.MEDIUM,
                            action=Action.OBSERVED,
                            evidence={"group": group, "operation": requirement.operation},
                        )
                    )
        except StateUnavailable as error:
            self._errors.report(error)


def build_bfla_stage(context: RouteContext) -> BflaStage | None:
    policy = context.policy.protection
    if policy is None or policy.bfla is None:
        return None
    return BflaStage(
        policy.bfla,
        policy.identity,
        state_for(context.resources, policy.state),
        policy.state.key_prefix,
        context.tenant.id,
        document_for(context),
    )
