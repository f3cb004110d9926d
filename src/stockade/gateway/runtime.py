"""Everything a worker builds from one config: route table, upstream pools, observers.

A reload builds a new Runtime beside the old one and swaps it in; exchanges
in flight keep the Runtime they started with.
"""

from __future__ import annotations

import logging
import ssl
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stockade.config.loader import ConfigError, ConfigIssue
from stockade.config.models import GatewayConfig, Service, Tenant, policies_in_effect
from stockade.events.model import SecurityEvent
from stockade.gateway.pipeline import LogObserver
from stockade.gateway.plugins import OBSERVER_FACTORIES, build_registry, load_factory
from stockade.gateway.routing import Resources, RouteTable
from stockade.gateway.upstream import UpstreamPool
from stockade.gateway.upstream_tls import UpstreamTlsContext, UpstreamTlsError
from stockade.http.parser import ParserLimits

log = logging.getLogger(__name__)

@dataclass
class Runtime:
    config: GatewayConfig
    routes: RouteTable
    pools: dict[tuple[str, str], UpstreamPool]
    parser_limits: ParserLimits
    request_id_header: bytes
    resources: Resources
    observers: list[LogObserver] = field(default_factory=list)
    emit: Callable[[SecurityEvent], None] = lambda event: None
    body_observers: list[Any] = field(init=False)
    """The observers with a ``wants_bodies(exchange)`` method, asked per exchange."""

    def __post_init__(self) -> None:
        self.body_observers = [
            observer
            for observer in self.observers
            if getattr(observer, "wants_bodies", None) is not None
        ]

    @classmethod
    def build(
        cls,
        config: GatewayConfig,
        resources: Resources | None = None,
        emit: Callable[[SecurityEvent], None] | None = None,
    ) -> Runtime:
        resources = resources or Resources()
        routes = RouteTable(config, build_registry(), resources)
        pools = {
            (tenant.id, service.id): UpstreamPool(
                f"{tenant.id}/{service.id}", service.upstream, upstream_tls_of(tenant, service)
            )
            for tenant, service in routes.services()
        }
        limits = config.limits
        parser_limits = ParserLimits(
            max_header_bytes=limits.max_header_bytes,
            max_header_count=limits.max_header_count,
            max_target_bytes=limits.max_target_bytes,
            max_chunk_extension_bytes=limits.max_chunk_extension_bytes,
            max_body_bytes=limits.max_body_bytes,
        )
        observers: list[LogObserver] = []
        for spec in OBSERVER_FACTORIES:
            factory = load_factory(spec)
            observer = factory(config, resources, emit) if factory is not None else None
            if observer is not None:
                observers.append(observer)
        runtime = cls(
            config,
            routes,
            pools,
            parser_limits,
            config.request_id_header.encode("ascii"),
            resources,
            observers,
        )
        if emit is not None:
            runtime.emit = emit
        return runtime

    def close(self) -> None:
        for pool in self.pools.values():
            pool.close()


def upstream_tls_of(tenant: Tenant, service: Service) -> UpstreamTlsContext | None:
    """Build the TLS context to a service's targets; raise UpstreamTlsError when unusable."""
    settings = service.upstream.tls or tenant.upstream_tls
    if settings is None:
        return None
    return UpstreamTlsContext(f"{tenant.id}/{service.id}", settings)


def check_files(config: GatewayConfig) -> list[str]:
    """Return the problems with the files that the config names, one line each: certificates,
    the Core Rule Set directories and the extra rule files of the WAF."""
    problems = _waf_file_problems(config)
    for tenant in config.tenants:
        for service in tenant.services:
            try:
                upstream_tls_of(tenant, service)
            except UpstreamTlsError as exc:
                problems.append(str(exc))
    for listener in config.listeners:
        if listener.tls is None:
            continue
        for certificate in listener.tls.certificates:
            try:
                ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(
                    certificate.cert, certificate.key
                )
            except (OSError, ssl.SSLError) as exc:
                problems.append(
                    f"listener {listener.name}: cannot load certificate {certificate.cert} "
                    f"with key {certificate.key}: {exc}"
                )
    return problems


def _waf_file_problems(config: GatewayConfig) -> list[str]:
    """Check the WAF files of every policy in effect, and name the first place of each problem.

    A worker compiles the rules only when it starts, so without this check a
    missing CRS would pass a reload and fail in the worker.
    """
    from stockade.waf.crs import find_crs  # the WAF is imported only when a config uses it

    problems: dict[str, str] = {}  # problem -> the first place it applies to
    for place, policy in policies_in_effect(config):
        waf = policy.waf
        if waf is None:
            continue
        try:
            find_crs(waf.crs_path)
        except FileNotFoundError as exc:
            problems.setdefault(str(exc), place)
        for path in waf.extra_rule_files:
            if not Path(path).is_file():
                problems.setdefault(
                    f"waf.extra_rule_files: {path!r} is not a readable file; fix the path, "
                    "which is relative to the working directory", place)
    return [f"{place}: {problem}" for problem, place in problems.items()]


def check_layers(config: GatewayConfig) -> list[str]:
    """Build every route's stages as a worker would; return what fails, one line each.

    Stage factories read files, secrets from environment variables and
    compile rule sets, so errors the config models cannot see show here.
    Each service is built on its own, so that one service's error does not
    hide another's. They share one Resources, so a rule set compiles once.
    """
    registry = build_registry()
    resources = Resources()
    problems: list[str] = []
    for tenant in config.tenants:
        for service in tenant.services:
            alone = config.model_copy(
                update={"tenants": [tenant.model_copy(update={"services": [service]})]}
            )
            place = f"tenants[{tenant.id}].services[{service.id}]"
            try:
                RouteTable(alone, registry, resources)
            except ConfigError as exc:
                problems.extend(_issue_text(issue) for issue in exc.issues)
            except Exception as exc:  # any factory error makes a worker fail to start
                problems.append(f"{place}: a security layer cannot be set up: {exc}")
    return problems


def _issue_text(issue: ConfigIssue) -> str:
    """Return a stage factory's config issue as one line that starts at its key path.

    The issue's file is the document that failed to load. It is appended
    unless the message already names it.
    """
    text = f"{issue.key_path}: {issue.message}" if issue.key_path else issue.message
    if issue.file and issue.file not in issue.message:
        text += f" (in {issue.file})"
    return text
