"""BOLA: broken object level authorization, OWASP API1:2023. Layer ``bola``.

The stage learns which object ids each caller has received: the ``id``
members of objects in successful JSON responses, filed under the resource
of the operation (``/orders`` for both ``GET /orders`` and
``GET /orders/{orderId}``). A request for an object id that was returned
to another caller but never to this one is flagged. Enumeration is flagged
too: many distinct ids of one resource from one caller within a window,
or a run of consecutive numeric ids.

An id never returned to anyone is not flagged (the gateway cannot know its
owner), so detection needs the owners' own list or create calls to have
passed through the gateway first.
"""

from __future__ import annotations

import functools
import time
from typing import Any
from urllib.parse import quote

from stockade.events.model import Action, Severity
from stockade.gateway.exchange import Exchange
from stockade.gateway.pipeline import CONTINUE, Phase, Verdict, reject
from stockade.gateway.routing import RouteContext
from stockade.protection.config import BolaProtection, IdentitySettings
from stockade.protection.identity import caller_of
from stockade.protection.inputs import MISSING, is_json_type, response_json, response_media_type
from stockade.protection.openapi.lookup import document_for, operation_of
from stockade.protection.openapi.operations import CompiledDocument
from stockade.protection.shared import ErrorLog, state_for
from stockade.protection.state import ProtectionState, StateUnavailable

LAYER = "bola"
MAX_IDS_PER_RESPONSE = 1000
"""Object ids learned from one response; list pages past this are learned in part."""
MAX_ID_CHARS = 128
"""Longer values are not object ids and are ignored."""
SELF_SEGMENTS = frozenset({"me", "self", "current", "mine"})
"""A last segment that stands for the caller's own object, as in /users/me."""
OBJECT_METHODS = frozenset({"GET", "HEAD", "PUT", "PATCH", "DELETE", "POST"})
FLAGGED = "protection.bola.flagged"
MAX_NUMERIC_ID_DIGITS = 19
"""Longer digit strings do not fit a 64-bit integer and are not checked for runs."""
REMEMBER_REFRESH_SECONDS = 10.0
"""A caller's ids already written within this time are not written again on every response."""
MAX_RECENT_WRITES = 10_000
"""Recent writes and passes remembered per stage; each record is cleared past this size."""
REPEAT_PASS_SECONDS = 5.0
"""A caller's repeated request for an id it owns is passed locally this long after a check."""
MAX_CACHED_KEY_PARTS = 10_000
"""Encoded key parts and resources of templates kept per worker."""


@functools.lru_cache(maxsize=MAX_CACHED_KEY_PARTS)
def key_part(text: str, safe: str = "") -> str:
    """Percent-encode ``text`` for a state key; cached, as callers and resources repeat."""
    return quote(text, safe=safe)


@functools.lru_cache(maxsize=MAX_CACHED_KEY_PARTS)
def resource_of(template: str) -> tuple[str, str | None]:
    """Split a path template into its resource and the name of the object id parameter."""
    segments = template.rstrip("/").split("/")
    last = segments[-1] if segments else ""
    if last.startswith("{") and last.endswith("}"):
        return "/".join(segments[:-1]) or "/", last[1:-1]
    if last in SELF_SEGMENTS and len(segments) > 1:
        return "/".join(segments[:-1]) or "/", None
    return template.rstrip("/") or "/", None


def returned_ids(document: Any, id_fields: list[str]) -> list[str]:
    """Return the object ids in a response: of the top object, its lists, or a top-level list."""
    objects: list[dict[str, Any]] = []
    if isinstance(document, dict):
        objects.append(document)
        objects.extend(
            item
            for value in document.values()
            if isinstance(value, list)
            for item in value
            if isinstance(item, dict)
        )
    elif isinstance(document, list):
        objects.extend(item for item in document if isinstance(item, dict))
    found: list[str] = []
    for obj in objects:
        for name in id_fields:
            value = obj.get(name)
            if isinstance(value, str | int) and not isinstance(value, bool):
                text = str(value)
                if 0 < len(text) <= MAX_ID_CHARS:
                    found.append(text)
        if len(found) >= MAX_IDS_PER_RESPONSE:
            break
    return list(dict.fromkeys(found))[:MAX_IDS_PER_RESPONSE]


class BolaStage:
    name = "protection.bola"
    layer = LAYER
    phases = frozenset({Phase.REQUEST_HEADERS, Phase.RESPONSE_BODY})

    def __init__(
        self,
        settings: BolaProtection,
        identity: IdentitySettings,
        state: ProtectionState,
        prefix: str,
        tenant: str,
        route_template: str,
        document: CompiledDocument | None,
    ) -> None:
        self.settings = settings
        self.identity = identity
        self.state = state
        self.prefix = f"{prefix}:{{{quote(tenant, safe='')}}}:bola"
        self.route_template = route_template
        self.document = document
        self.exempt = frozenset(settings.exempt_groups)
        self._recent_writes: dict[tuple[str, tuple[str, ...]], float] = {}
        self._recent_passes: dict[tuple[str, str, str], float] = {}
        self._errors = ErrorLog("the BOLA state store")

    def _template(self, exchange: Exchange) -> tuple[str, dict[str, str]] | None:
        if self.document is not None:
            match = operation_of(exchange, self.document)
            if match is not None and match.operation is not None:
                return match.operation.template, match.params
        if exchange.match is not None and exchange.match.params:
            return self.route_template, exchange.match.params
        return None

    def wants_request_body(self, exchange: Exchange) -> bool:
        return False

    def wants_response_body(self, exchange: Exchange) -> bool:
        response = exchange.response
        return (
            response is not None
            and 200 <= response.status < 300
            and is_json_type(response_media_type(exchange))
            and exchange.state.get(FLAGGED) is None
            and self._template(exchange) is not None
        )

    async def check(self, exchange: Exchange, phase: Phase) -> Verdict:
        try:
            if phase is Phase.REQUEST_HEADERS:
                return await self._check_request(exchange)
            await self._learn(exchange)
        except StateUnavailable as error:
            self._errors.report(error)
        return CONTINUE

    async def _check_request(self, exchange: Exchange) -> Verdict:
        method = exchange.request.method.decode("latin-1")
        found = self._template(exchange)
        if found is None or method not in OBJECT_METHODS:
            return CONTINUE
        template, params = found
        resource, id_name = resource_of(template)
        object_id = params.get(id_name) if id_name else None
        caller = caller_of(exchange, self.identity)
        if object_id is None or len(object_id) > MAX_ID_CHARS:
            return CONTINUE
        if caller is not None and caller.groups & self.exempt:
            return CONTINUE

        # Anonymous callers own nothing, but their enumeration is counted by address.
        requester = f"c:{caller.id}" if caller is not None else f"ip:{exchange.client.address}"
        resource_key = key_part(resource, "/")
        owner = f"{self.prefix}:{key_part(caller.id)}" if caller is not None else None
        settings = self.settings
        numeric = object_id.isdigit() and len(object_id) < MAX_NUMERIC_ID_DIGITS
        repeat = (requester, resource_key, object_id)
        now = time.monotonic()
        if self._recent_passes.get(repeat, 0.0) > now:
            # The caller owns this id and asked for it moments ago. Asking again changes
            # neither ownership nor the distinct count nor the run, so the store is skipped.
            return CONTINUE
        record = await self.state.check_object(
            owner,
            f"{self.prefix}:{resource_key}:{object_id}",
            f"{self.prefix}:enum:{key_part(requester)}:{resource_key}",
            settings.enumeration_window_seconds,
            settings.enumeration_distinct_ids,
            int(object_id) if numeric else None,
        )

        window = settings.enumeration_window_seconds
        if record.known and not record.owned:
            reason, status = "bola", 403
            message = "object id was returned to another consumer but never to this one"
            if settings.block_after > 1:
                foreign_key = f"{self.prefix}:foreign:{key_part(requester)}"
                seen = await self.state.count(foreign_key, window)
                if seen < settings.block_after:
                    exchange.state[FLAGGED] = True
                    exchange.events.append(exchange.event(
                        LAYER, reason, f"{message} ({seen} of {settings.block_after} allowed)",
                        Severity.HIGH, action=Action.OBSERVED,
                        evidence={"resource": resource, "object_id": object_id}))
                    return CONTINUE
        elif record.distinct >= settings.enumeration_distinct_ids:
            reason, status = "object-enumeration", 429
            message = f"{record.distinct} distinct ids of one resource within {window:g} s"
        elif record.run >= settings.sequential_run:
            reason, status = "sequential-enumeration", 429
            message = f"{record.run} consecutive ids requested in a row"
        else:
            if record.owned:  # an id not yet known may become another caller's, so not cached
                if len(self._recent_passes) >= MAX_RECENT_WRITES:
                    self._recent_passes.clear()
                self._recent_passes[repeat] = now + REPEAT_PASS_SECONDS
            return CONTINUE
        exchange.state[FLAGGED] = True
        return self._reject(exchange, reason, message, status, resource, object_id)

    def _reject(
        self,
        exchange: Exchange,
        reason: str,
        message: str,
        status: int,
        resource: str,
        object_id: str,
    ) -> Verdict:
        event = exchange.event(
            LAYER,
            reason,
            message,
            Severity.HIGH,
            evidence={"resource": resource, "object_id": object_id},
        )
        return reject(
            status,
            reason,
            "access denied" if status == 403 else "too many requests",
            severity=Severity.HIGH,
            events=(event,),
        )

    async def _learn(self, exchange: Exchange) -> None:
        found = self._template(exchange)
        caller = caller_of(exchange, self.identity)
        if found is None or caller is None or exchange.state.get(FLAGGED):
            return
        document = response_json(exchange)
        if document is MISSING:
            return
        resource, _ = resource_of(found[0])
        ids = returned_ids(document, self.settings.id_fields)
        if not ids:
            return
        resource_key = key_part(resource, "/")
        owner = f"{self.prefix}:{key_part(caller.id)}"
        objects = [f"{self.prefix}:{resource_key}:{object_id}" for object_id in ids]
        now = time.monotonic()
        recent = (owner, tuple(objects))
        if self._recent_writes.get(recent, 0.0) > now:
            return
        if len(self._recent_writes) >= MAX_RECENT_WRITES:
            self._recent_writes.clear()
        self._recent_writes[recent] = now + REMEMBER_REFRESH_SECONDS
        await self.state.remember(
            owner,
            objects,
            self.settings.max_objects_per_consumer,
            self.settings.ownership_ttl_seconds,
        )


def build_bola_stage(context: RouteContext) -> BolaStage | None:
    policy = context.policy.protection
    if policy is None or policy.bola is None:
        return None
    return BolaStage(
        policy.bola,
        policy.identity,
        state_for(context.resources, policy.state),
        policy.state.key_prefix,
        context.tenant.id,
        context.route.path,
        document_for(context),
    )
