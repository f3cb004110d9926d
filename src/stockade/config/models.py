"""Declarative configuration of a Stockade gateway.

The file is YAML; these pydantic models validate it. Policies are inherited
tenant, then service, then route: a key set lower down replaces the same key
from above, and nested sections merge key by key (see ``merge_policy``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any, Final, Literal, cast

from pydantic import (
    BaseModel,
    Field,
    IPvAnyNetwork,
    ValidationInfo,
    field_validator,
    model_validator,
)

from stockade.access.config import AccessPolicy, CorsPolicy
from stockade.auth.config import AuthPolicy
from stockade.auth.consumers import Consumers
from stockade.config.base import KIB, MIB, ConfigPath, Identifier, Mode, StrictModel
from stockade.csrf.config import CsrfPolicy
from stockade.ddos.config import DdosPolicy
from stockade.events.config import EventsConfig
from stockade.protection.config import ProtectionPolicy
from stockade.protection.discovery.config import DiscoveryPolicy, DiscoverySettings
from stockade.ratelimit.config import RateLimitPolicy
from stockade.store.settings import StoreSettings
from stockade.waf.config import WafPolicy

# --- limits and listeners -------------------------------------------------


class Limits(StrictModel):
    """Per-connection and per-message limits applied before any stage runs."""

    max_header_bytes: int = Field(
        16 * KIB,
        ge=1 * KIB,
        le=1 * MIB,
        description="Request line plus header section, in bytes; 431 past it.",
    )
    max_header_count: int = Field(
        100, ge=1, le=10_000, description="Header fields per request; 431 past it."
    )
    max_target_bytes: int = Field(
        8 * KIB, ge=64, le=1 * MIB, description="Request target length; 414 past it."
    )
    max_body_bytes: int = Field(
        10 * MIB, ge=0, description="Default request body size; 413 past it."
    )
    max_chunk_extension_bytes: int = Field(
        4 * KIB, ge=0, le=64 * KIB, description="Chunk extension bytes per chunk; 400 past it."
    )
    max_connections: int = Field(10_000, ge=1, description="Open client connections per worker.")
    header_timeout: float = Field(
        10.0, gt=0, description="Seconds to receive a whole request head."
    )
    idle_timeout: float = Field(
        60.0, gt=0, description="Seconds a keep-alive client connection may sit idle."
    )
    body_timeout: float = Field(
        60.0, gt=0, description="Seconds allowed between two reads of a request body."
    )
    min_body_rate: int = Field(
        0,
        ge=0,
        description="Bytes per second a request body must average after its first "
        "body_rate_grace seconds; 0 turns the check off. Slower clients get 408.",
    )
    body_rate_grace: float = Field(5.0, ge=0, description="Seconds before min_body_rate applies.")
    max_request_time: float = Field(
        300.0, gt=0, description="Seconds to receive a whole request, head and body; 408 past it."
    )


class TlsCertificate(StrictModel):
    hostnames: list[str] = Field(
        min_length=1, description="SNI names this certificate serves; '*.' prefix allowed."
    )
    cert: ConfigPath = Field(description="Path to the PEM certificate chain.")
    key: ConfigPath = Field(description="Path to the PEM private key.")


class ListenerTls(StrictModel):
    certificates: list[TlsCertificate] = Field(min_length=1)
    default_hostname: str | None = Field(
        None, description="Certificate used when the client sends no SNI; the first one otherwise."
    )
    min_version: Literal["1.2", "1.3"] = "1.2"


class Listener(StrictModel):
    name: Identifier = "public"
    address: str = Field("127.0.0.1:8080", description="host:port; IPv6 as [::1]:8443.")
    tls: ListenerTls | None = None

    @field_validator("address")
    @classmethod
    def _check_address(cls, value: str) -> str:
        parse_address(value)
        return value


class AdminListener(StrictModel):
    address: str = Field(
        "127.0.0.1:9901", description="host:port of the metrics and health listener."
    )

    @field_validator("address")
    @classmethod
    def _check_address(cls, value: str) -> str:
        parse_address(value)
        return value


class AccessLog(StrictModel):
    enabled: bool = True
    path: str = Field(
        "-",
        description="File to append JSON lines to, relative to the config "
        "file's folder; '-' is standard output.",
    )

    @field_validator("path")
    @classmethod
    def _resolve_path(cls, value: str, info: ValidationInfo) -> str:
        base_dir = (info.context or {}).get("base_dir")
        if value == "-" or base_dir is None or os.path.isabs(value):
            return value
        return os.path.normpath(os.path.join(base_dir, value))


# --- upstreams ---------------------------------------------------------------


class PassiveHealth(StrictModel):
    max_failures: int = Field(3, ge=1, description="Consecutive failures that eject a target.")
    eject_seconds: float = Field(
        10.0, gt=0, description="How long an ejected target gets no traffic."
    )


class UpstreamTls(StrictModel):
    """TLS from the gateway to a service's targets."""

    verify: bool = Field(
        True, description="Verify the target's certificate; false is logged as a warning at load."
    )
    ca_file: ConfigPath | None = Field(
        None, description="PEM bundle of CAs to trust; the system trust store when unset."
    )
    server_name: str | None = Field(
        None,
        description="Name sent in SNI and checked in the certificate; the target host when unset.",
    )
    min_version: Literal["1.2", "1.3"] = "1.2"
    ciphers: str | None = Field(
        None, description="OpenSSL cipher list for TLS 1.2 (1.3 suites are fixed)."
    )
    client_cert: ConfigPath | None = Field(
        None, description="PEM client certificate chain for mTLS."
    )
    client_key: ConfigPath | None = Field(None, description="PEM private key of client_cert.")
    pins: list[str] = Field(
        default_factory=list,
        description="Accepted SPKI hashes, 'sha256/' plus base64; the target must match one.",
    )
    expiry_warning_days: int = Field(
        14,
        ge=0,
        description="Warn at load when the client certificate expires within this many days.",
    )

    @model_validator(mode="after")
    def _check_pairs(self) -> UpstreamTls:
        if (self.client_cert is None) != (self.client_key is None):
            raise ValueError("client_cert and client_key must be set together")
        for pin in self.pins:
            if not pin.startswith("sha256/") or len(pin) != len("sha256/") + 44:
                raise ValueError(f"pin {pin!r} must be 'sha256/' followed by a base64 SHA-256 hash")
        return self


class IdentityFields(StrictModel):
    """Fields that tell the upstream who the client is; client copies are always removed."""

    consumer: str | None = Field(None, description="Field carrying the authenticated consumer id.")
    client_subject: str | None = Field(
        None, description="Field carrying the verified client certificate's subject (mTLS)."
    )

    def names(self) -> list[str]:
        return [name for name in (self.consumer, self.client_subject) if name]


class Upstream(StrictModel):
    tls: UpstreamTls | None = Field(None, description="Speak TLS to the targets.")
    targets: list[str] = Field(
        min_length=1, description="host:port of each backend, used round-robin."
    )
    connect_timeout: float = Field(
        5.0, gt=0, description="Seconds to open a connection to a target."
    )
    read_timeout: float = Field(
        30.0, gt=0, description="Seconds to wait for each read of the response."
    )
    idle_timeout: float = Field(
        30.0, gt=0, description="Seconds an unused pooled connection is kept."
    )
    max_idle_per_target: int = Field(
        64, ge=0, description="Pooled keep-alive connections per target."
    )
    retries: int = Field(
        1,
        ge=0,
        le=5,
        description="Extra attempts for idempotent requests that never reached a target.",
    )
    passive_health: PassiveHealth = PassiveHealth()
    max_concurrent: int | None = Field(
        None,
        ge=1,
        description="Requests in flight to this service at once, per worker; unset is no limit.",
    )
    queue_timeout: float = Field(
        1.0, ge=0, description="Seconds to wait for a slot under max_concurrent; 503 after."
    )
    max_queue: int = Field(
        100, ge=0, description="Requests that may wait for a slot; more get 503 at once."
    )

    @field_validator("targets")
    @classmethod
    def _check_targets(cls, value: list[str]) -> list[str]:
        for target in value:
            parse_address(target)
        return value


# --- policies ----------------------------------------------------------------


class RequestBodyPolicy(StrictModel):
    max_bytes: int | None = Field(
        None, ge=0, description="Largest request body accepted; 413 past it."
    )
    buffer_max_bytes: int | None = Field(
        None, ge=0, description="Largest body buffered for stages that inspect whole bodies."
    )
    over_buffer: Literal["reject", "inspect_partial"] | None = Field(
        None,
        description="A body past buffer_max_bytes is rejected (413) or inspected up to the cap.",
    )


LAYERS: Final = frozenset({
    "abuse", "access", "auth", "auth-signals", "bfla", "blocking", "bola", "cors", "csrf",
    "ddos", "discovery", "leaks", "openapi", "ratelimit", "ssrf", "waf",
})
"""The layer names of the security stages, which Policy.modes sets modes for."""


class Policy(StrictModel):
    """Settings of every layer. Each field left unset is inherited from the level above."""

    mode: Mode | None = Field(
        None, description="Default mode of every security layer at this level."
    )
    modes: dict[str, Mode] | None = Field(
        None,
        description="Mode per layer name (for example waf: detect), overriding 'mode'. Layers: "
        + ", ".join(sorted(LAYERS)) + ".",
    )
    request_body: RequestBodyPolicy | None = None
    auth: AuthPolicy | None = None
    access: AccessPolicy | None = None
    rate_limit: RateLimitPolicy | None = None
    cors: CorsPolicy | None = None
    waf: WafPolicy | None = None
    discovery: DiscoveryPolicy | None = None
    protection: ProtectionPolicy | None = None
    csrf: CsrfPolicy | None = None
    ddos: DdosPolicy | None = None

    @field_validator("modes")
    @classmethod
    def _check_layers(cls, value: dict[str, Mode] | None) -> dict[str, Mode] | None:
        for layer in value or {}:
            if layer not in LAYERS:
                raise ValueError(
                    f"unknown layer {layer!r}; use one of {', '.join(sorted(LAYERS))}"
                )
        return value

    def mode_of(self, layer: str) -> Mode:
        if self.modes and layer in self.modes:
            return self.modes[layer]
        return self.mode or "block"


def merge_policy(parent: Policy, child: Policy | None) -> Policy:
    """Return ``parent`` overlaid with the keys that ``child`` sets explicitly."""
    if child is None:
        return parent
    return cast(Policy, _merge_model(parent, child))


def policies_in_effect(config: GatewayConfig) -> Iterator[tuple[str, Policy]]:
    """Yield (place, merged policy) for every service and route of ``config``. The place
    reads "tenant acme service api" or "tenant acme service api route items"."""
    for tenant in config.tenants:
        tenant_policy = merge_policy(config.policy, tenant.policy)
        for service in tenant.services:
            place = f"tenant {tenant.id} service {service.id}"
            service_policy = merge_policy(tenant_policy, service.policy)
            yield place, service_policy
            for route in service.routes:
                yield f"{place} route {route.id}", merge_policy(service_policy, route.policy)


def _merge_model(parent: BaseModel, child: BaseModel) -> BaseModel:
    values: dict[str, Any] = dict(parent)
    for name in child.model_fields_set:
        new = getattr(child, name)
        old = values.get(name)
        if isinstance(new, BaseModel) and isinstance(old, BaseModel) and type(new) is type(old):
            values[name] = _merge_model(old, new)
        elif isinstance(new, dict) and isinstance(old, dict):
            values[name] = {**old, **new}
        else:
            values[name] = new
    return parent.model_copy(update=values)


# --- tenants, services, routes ------------------------------------------------

HTTP_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"})


class Route(StrictModel):
    id: Identifier
    methods: list[str] = Field(
        default_factory=lambda: ["*"], description="Methods, or '*' for any."
    )
    path: str = Field(description="Path template such as /users/{userId}/orders/{orderId}.")
    policy: Policy | None = None

    @field_validator("methods")
    @classmethod
    def _check_methods(cls, value: list[str]) -> list[str]:
        for method in value:
            if method != "*" and method not in HTTP_METHODS:
                raise ValueError(
                    f"unknown method {method!r}; use one of {sorted(HTTP_METHODS)} or '*'"
                )
        return value

    @field_validator("path")
    @classmethod
    def _check_path(cls, value: str) -> str:
        check_path_template(value)
        return value


class Service(StrictModel):
    id: Identifier
    hosts: list[str] = Field(
        min_length=1, description="Host names this service answers; '*.' prefix allowed."
    )
    path_prefix: str = Field("/", description="Only paths under this prefix reach the service.")
    upstream: Upstream
    identity_fields: IdentityFields = Field(
        default_factory=IdentityFields, description="Fields telling the upstream who the client is."
    )
    preserve_host: bool = Field(
        True, description="Forward the client's Host; false sends the target's host:port."
    )
    openapi: ConfigPath | None = Field(
        None, description="Path to the service's OpenAPI 3.0 or 3.1 document."
    )
    policy: Policy | None = None
    routes: list[Route] = Field(default_factory=list)

    @field_validator("path_prefix")
    @classmethod
    def _check_prefix(cls, value: str) -> str:
        if not value.startswith("/"):
            raise ValueError(f"path_prefix {value!r} must start with '/'")
        return value

    @field_validator("hosts")
    @classmethod
    def _lower_hosts(cls, value: list[str]) -> list[str]:
        for host in value:
            if not host or " " in host or "/" in host:
                raise ValueError(f"invalid host name {host!r}")
        return [host.lower() for host in value]

    @model_validator(mode="after")
    def _unique_routes(self) -> Service:
        _reject_duplicate_ids("route", [route.id for route in self.routes])
        return self


class Tenant(StrictModel):
    id: Identifier
    name: str | None = None
    upstream_tls: UpstreamTls | None = Field(
        None, description="TLS to upstreams for services of this tenant that set no upstream.tls."
    )
    policy: Policy | None = None
    services: list[Service] = Field(default_factory=list)
    consumers: Consumers = Field(
        default_factory=list, description="API clients and their credentials."
    )

    @model_validator(mode="after")
    def _unique_services(self) -> Tenant:
        _reject_duplicate_ids("service", [service.id for service in self.services])
        return self


class GatewayConfig(StrictModel):
    """The root of a Stockade configuration file."""

    listeners: list[Listener] = Field(default_factory=lambda: [Listener()], min_length=1)
    admin: AdminListener | None = AdminListener()
    workers: int | Literal["auto"] = Field(
        "auto", description="Worker processes; 'auto' is one per core."
    )
    limits: Limits = Limits()
    shutdown_timeout: float = Field(
        30.0, gt=0, description="Seconds to drain requests in flight on stop."
    )
    request_id_header: str = Field(
        "X-Request-Id",
        pattern=r"^[A-Za-z0-9-]{1,64}$",
        description="Field that carries the request id both ways.",
    )
    access_log: AccessLog = AccessLog()
    policy: Policy = Field(
        default_factory=Policy, description="Defaults inherited by every tenant."
    )
    tenants: list[Tenant] = Field(default_factory=list)
    events: EventsConfig = Field(
        default_factory=EventsConfig, description="Security event sinks, spool and alert rules."
    )
    store: StoreSettings = Field(
        default_factory=StoreSettings,
        description="Database of config history, events and the admin API.",
    )
    discovery: DiscoverySettings | None = Field(
        None, description="API discovery from traffic; absent means discovery is off."
    )
    trusted_proxies: list[IPvAnyNetwork] = Field(
        default_factory=list,
        description="Peers whose X-Forwarded-For is believed; the client address is read from it.",
    )

    @field_validator("workers", mode="before")
    @classmethod
    def _check_workers(cls, value: Any) -> Any:
        # Checked before the union, so that a wrong value gets one error, not one per member.
        if value == "auto":
            return value
        if not isinstance(value, int) or isinstance(value, bool):
            raise ValueError("must be an integer between 1 and 256 or 'auto'")
        if not 1 <= value <= 256:
            raise ValueError("must be between 1 and 256 or 'auto'")
        return value

    @model_validator(mode="after")
    def _check_unique(self) -> GatewayConfig:
        _reject_duplicate_ids("tenant", [tenant.id for tenant in self.tenants])
        _reject_duplicate_ids("listener", [listener.name for listener in self.listeners])
        seen: dict[tuple[str, str], str] = {}
        for tenant in self.tenants:
            for service in tenant.services:
                for host in service.hosts:
                    key = (host, service.path_prefix)
                    owner = f"{tenant.id}/{service.id}"
                    if key in seen:
                        raise ValueError(
                            f"host {host!r} with path_prefix {service.path_prefix!r} is claimed "
                            f"by both {seen[key]} and {owner}; give one of them another host "
                            "or prefix"
                        )
                    seen[key] = owner
        return self


def _reject_duplicate_ids(kind: str, ids: list[str]) -> None:
    seen: set[str] = set()
    for item in ids:
        if item in seen:
            raise ValueError(f"duplicate {kind} id {item!r}; ids must be unique")
        seen.add(item)


def parse_address(value: str) -> tuple[str, int]:
    """Split ``host:port`` (``[v6]:port`` for IPv6) and check the port range."""
    host, sep, port_text = value.rpartition(":")
    if not sep or not host:
        raise ValueError(f"address {value!r} must be host:port, for example 127.0.0.1:8080")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise ValueError(f"address {value!r} has an invalid port; use 1-65535")
    return host, int(port_text)


def check_path_template(template: str) -> None:
    """Validate a route template: absolute, with whole-segment ``{name}`` parameters."""
    if not template.startswith("/"):
        raise ValueError(f"path {template!r} must start with '/'")
    names: set[str] = set()
    for segment in template.split("/")[1:]:
        if "{" in segment or "}" in segment:
            if not (segment.startswith("{") and segment.endswith("}")) or segment.count("{") != 1:
                raise ValueError(
                    f"path {template!r}: a parameter must fill a whole segment, like /users/{{id}}"
                )
            name = segment[1:-1]
            if not name.isidentifier():
                raise ValueError(f"path {template!r}: parameter name {name!r} is not an identifier")
            if name in names:
                raise ValueError(f"path {template!r}: parameter {name!r} appears twice")
            names.add(name)
