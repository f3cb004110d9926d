"""Route tables with the CORS, auth and CSRF stages, driven with Exchange objects."""

from __future__ import annotations

from typing import Any

from stockade.access import stage as access_stage
from stockade.auth import stage as auth_stage
from stockade.config.models import GatewayConfig
from stockade.csrf import stage as csrf_stage
from stockade.gateway.exchange import ClientInfo, Exchange
from stockade.gateway.pipeline import Phase, StageRegistry, Verdict
from stockade.gateway.routing import Resources, RouteTable
from stockade.http.fields import Fields
from stockade.http.messages import BodyFraming, RequestHead

HOST = "api.test"
APP = "https://app.acme.test"


def registry() -> StageRegistry:
    result = StageRegistry()
    for module in (access_stage, auth_stage, csrf_stage):
        module.register(result)
    return result


def config(
    csrf: dict[str, Any] | None = None,
    *,
    extra_policy: dict[str, Any] | None = None,
    consumers: list[dict[str, Any]] | None = None,
    openapi: str | None = None,
) -> GatewayConfig:
    policy: dict[str, Any] = {"csrf": csrf if csrf is not None else {}}
    policy.update(extra_policy or {})
    service: dict[str, Any] = {
        "id": "api",
        "hosts": [HOST],
        "upstream": {"targets": ["127.0.0.1:9"]},
        "policy": policy,
    }
    if openapi is not None:
        service["openapi"] = openapi
    tenant = {"id": "acme", "services": [service], "consumers": consumers or []}
    return GatewayConfig.model_validate({"tenants": [tenant]})


class Gate:
    def __init__(self, gateway_config: GatewayConfig) -> None:
        self.table = RouteTable(gateway_config, registry(), Resources())

    def exchange(
        self,
        method: str = "POST",
        target: str = "/orders",
        headers: list[tuple[str, str]] | None = None,
        *,
        body: bytes = b"",
        tls: bool = True,
    ) -> Exchange:
        items = [(b"Host", HOST.encode())]
        items += [(name.encode(), value.encode("latin-1")) for name, value in headers or []]
        fields = Fields(items)
        head = RequestHead(
            method.encode(),
            target.encode(),
            b"1.1",
            fields,
            BodyFraming.LENGTH if body else BodyFraming.NONE,
            content_length=len(body) if body else None,
            authority=HOST.encode(),
        )
        client = ClientInfo("127.0.0.1", 40000, "127.0.0.1", tls=tls)
        exchange = Exchange("test-request", client, head)
        exchange.match = self.table.match(HOST, method, target.partition("?")[0])
        exchange.body = body or None
        return exchange

    async def run(self, exchange: Exchange) -> Verdict:
        assert exchange.match is not None
        return await exchange.match.pipeline.run(exchange, Phase.REQUEST_HEADERS)

    async def send(
        self,
        method: str = "POST",
        headers: list[tuple[str, str]] | None = None,
        **kwargs: Any,
    ) -> tuple[Verdict, Exchange]:
        exchange = self.exchange(method, headers=headers, **kwargs)
        return await self.run(exchange), exchange


def fields_named(
    pairs: list[tuple[bytes, bytes]] | tuple[tuple[bytes, bytes], ...], name: str
) -> list[str]:
    return [value.decode() for key, value in pairs if key.decode().lower() == name.lower()]


def kinds(exchange: Exchange) -> list[str]:
    return [event.kind for event in exchange.events]
