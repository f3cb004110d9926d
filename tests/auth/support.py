"""Build route tables with the security stages and drive them with Exchange objects."""

from __future__ import annotations

from typing import Any

from stockade.access import stage as access_stage
from stockade.access.client_address import resolve_client_address
from stockade.auth import stage as auth_stage
from stockade.config.models import GatewayConfig
from stockade.gateway.exchange import ClientInfo, Exchange
from stockade.gateway.pipeline import Phase, StageRegistry, Verdict
from stockade.gateway.routing import Resources, RouteTable
from stockade.http.fields import Fields
from stockade.http.messages import BodyFraming, RequestHead
from stockade.ratelimit import stage as ratelimit_stage

HOST = "api.test"


def security_registry() -> StageRegistry:
    registry = StageRegistry()
    for module in (access_stage, auth_stage, ratelimit_stage):
        module.register(registry)
    return registry


def gateway_config(
    policy: dict[str, Any] | None = None,
    *,
    consumers: list[dict[str, Any]] | None = None,
    routes: list[dict[str, Any]] | None = None,
    **top: Any,
) -> GatewayConfig:
    """One tenant 'acme' with one service on api.test carrying ``policy``."""
    service: dict[str, Any] = {
        "id": "api",
        "hosts": [HOST],
        "upstream": {"targets": ["127.0.0.1:9"]},
        "routes": routes or [],
    }
    if policy is not None:
        service["policy"] = policy
    tenant = {"id": "acme", "services": [service], "consumers": consumers or []}
    return GatewayConfig.model_validate({"tenants": [tenant], **top})


class Gate:
    """A route table of the security stages, with one Resources like one worker has."""

    def __init__(self, config: GatewayConfig) -> None:
        self.config = config
        self.resources = Resources()
        self.table = RouteTable(config, security_registry(), self.resources)

    def exchange(
        self,
        target: str = "/",
        *,
        method: str = "GET",
        headers: list[tuple[str, str]] | None = None,
        peer: str = "127.0.0.1",
        sni: str | None = None,
        certificate_der: bytes | None = None,
    ) -> Exchange:
        fields = Fields(
            [(b"Host", HOST.encode())]
            + [(k.encode(), v.encode("latin-1")) for k, v in headers or []]
        )
        head = RequestHead(method.encode(), target.encode(), b"1.1", fields, BodyFraming.NONE)
        # Like the listener: the client address comes from X-Forwarded-For only via trusted proxies.
        forwarded = b",".join(fields.get_all(b"x-forwarded-for")) or None
        address = resolve_client_address(peer, forwarded, self.config.trusted_proxies)
        client = ClientInfo(
            address,
            40000,
            peer,
            tls=certificate_der is not None or sni is not None,
            sni=sni,
            peer_certificate_der=certificate_der,
        )
        exchange = Exchange("test-request", client, head)
        exchange.match = self.table.match(HOST, method, target.partition("?")[0])
        return exchange

    async def close(self) -> None:
        """Stop background tasks and clients that stages put in the shared resources."""
        for item in self.resources.items.values():
            close = getattr(item, "close", None)
            if close is not None:
                await close()

    async def run(self, exchange: Exchange) -> Verdict:
        assert exchange.match is not None
        return await exchange.match.pipeline.run(exchange, Phase.REQUEST_HEADERS)

    async def request(self, target: str = "/", **kwargs: Any) -> tuple[Verdict, Exchange]:
        exchange = self.exchange(target, **kwargs)
        return await self.run(exchange), exchange


def field(verdict: Verdict, name: str) -> list[str]:
    return [value.decode() for key, value in verdict.fields if key.decode().lower() == name.lower()]
