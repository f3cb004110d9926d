"""The deny list stages: the first check of the pipeline, and a second one after authentication.

The first stage (order 50) checks what is known before any other stage
runs: the client address, the subject of a bearer JWT, and the route
blocks of the service. Consumer ids and API key ids are known only once
the auth stage has run, so a second stage checks them right after it.
Both belong to the ``blocking`` layer.
"""

from __future__ import annotations

from typing import cast

from stockade.events.model import Severity
from stockade.gateway.errors import PathError
from stockade.gateway.exchange import Exchange
from stockade.gateway.pipeline import CONTINUE, Phase, Verdict, reject
from stockade.gateway.routing import RouteContext, split_path
from stockade.protection.blocking import DenyList
from stockade.protection.blocking_rules import source_of
from stockade.protection.blocking_sync import StoreBlockSync
from stockade.protection.shared import ErrorLog, deny_list_for
from stockade.protection.state import StateUnavailable

EARLY_KINDS = ("ip", "jwt-subject")
LATE_KINDS = ("consumer", "api-key")


class DenyStage:
    layer = "blocking"
    phases = frozenset({Phase.REQUEST_HEADERS})

    def __init__(
        self,
        name: str,
        deny_list: DenyList,
        kinds: tuple[str, ...],
        sync: StoreBlockSync | None,
        check_routes: bool = False,
    ) -> None:
        self.name = name
        self.deny_list = deny_list
        self.kinds = kinds
        self.sync = sync
        self.check_routes = check_routes
        self._errors = ErrorLog("the deny list store")

    def wants_request_body(self, exchange: Exchange) -> bool:
        return False

    def wants_response_body(self, exchange: Exchange) -> bool:
        return False

    async def check(self, exchange: Exchange, phase: Phase) -> Verdict:
        if self.sync is not None:
            self.sync.start()
        if self.check_routes and self.deny_list.routes:
            route_verdict = self._check_route(exchange)
            if route_verdict is not None:
                return route_verdict
        sources = [
            (kind, value) for kind in self.kinds if (value := source_of(exchange, kind)) is not None
        ]
        if not sources:
            return CONTINUE
        try:
            entry = await self.deny_list.check(exchange.tenant_id or "-", sources)
        except StateUnavailable as error:
            self._errors.report(error)
            return CONTINUE
        if entry is None:
            return CONTINUE
        event = exchange.event(
            "blocking",
            "denied-source",
            f"{entry.kind} is on the deny list: {entry.reason}",
            Severity.MEDIUM,
            evidence={
                "source": entry.kind,
                "value": entry.value,
                "origin": entry.origin,
                "expires_at": entry.expires_at,
                "tenant_scope": entry.tenant,
            },
        )
        return reject(403, "denied-source", "access denied", events=(event,))

    def _check_route(self, exchange: Exchange) -> Verdict | None:
        tenant, service = exchange.tenant_id, exchange.service_id
        if tenant is None or service is None or (tenant, service) not in self.deny_list.routes:
            return None  # only a service with route blocks pays for decoding the path
        method = exchange.request.method.decode("latin-1")
        path = exchange.request.path.decode("latin-1")
        try:
            segments = split_path(path)
        except PathError:
            return None  # routing rejects such paths before any stage runs
        entry = self.deny_list.route_entry(tenant, service, method, segments)
        if entry is None:
            return None
        event = exchange.event(
            "blocking",
            "denied-route",
            f"{method} {path} matches the route block {entry.value}: {entry.reason}",
            Severity.MEDIUM,
            evidence={
                "route": entry.value,
                "origin": entry.origin,
                "expires_at": entry.expires_at,
            },
        )
        return reject(403, "denied-route", "access denied", events=(event,))


def _deny_list(context: RouteContext) -> tuple[DenyList, StoreBlockSync | None] | None:
    policy = context.policy.protection
    if policy is None or policy.blocking is None:
        return None
    blocking = policy.blocking
    deny_list = deny_list_for(context.resources, policy.state, blocking.cache_seconds)
    sync = None
    if blocking.store_sync_seconds is not None:
        url = context.config.store.url
        interval = blocking.store_sync_seconds
        sync = cast(
            StoreBlockSync,
            context.resources.get_or_create(
                f"protection.store-sync:{url}", lambda: StoreBlockSync(deny_list, url, interval)
            ),
        )
    return deny_list, sync


def build_early_deny_stage(context: RouteContext) -> DenyStage | None:
    found = _deny_list(context)
    if found is None:
        return None
    return DenyStage("blocking", found[0], EARLY_KINDS, found[1], check_routes=True)


def build_late_deny_stage(context: RouteContext) -> DenyStage | None:
    found = _deny_list(context)
    return DenyStage("blocking.consumer", found[0], LATE_KINDS, None) if found else None
