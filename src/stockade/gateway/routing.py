"""Route matching: Host, then path prefix, then method and path template.

Route tables are built once per config load. Matching works on whole path
segments and never runs a regular expression on the request.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from stockade.config.models import GatewayConfig, Policy, Route, Service, Tenant, merge_policy
from stockade.gateway.errors import PathError
from stockade.gateway.pipeline import Pipeline, StageRegistry

DEFAULT_ROUTE = Route(id="default", path="/")
"""Stands for the whole service when a request matches none of its routes."""


@dataclass(slots=True)
class Resources:
    """Objects shared by every route of one worker: stores, clients, compiled rule sets.

    Stage factories put what they build here so that routes with the same
    settings share one instance.
    """

    items: dict[str, Any] = field(default_factory=dict)

    def get_or_create(self, key: str, create: Any) -> Any:
        if key not in self.items:
            self.items[key] = create()
        return self.items[key]


@dataclass(frozen=True, slots=True)
class RouteContext:
    """What a stage factory sees when it builds the stage for one route."""

    config: GatewayConfig
    tenant: Tenant
    service: Service
    route: Route
    policy: Policy
    resources: Resources


@dataclass(slots=True, init=False)
class RouteMatch:
    tenant: Tenant
    service: Service
    route: Route
    pipeline: Pipeline
    params: dict[str, str]
    policy: Policy

    def __init__(self, tenant: Tenant, service: Service, route: Route, pipeline: Pipeline,
                 params: dict[str, str], policy: Policy) -> None:
        # Written out rather than made by @dataclass: mypyc compiles this
        # __init__, while the one @dataclass makes runs interpreted.
        self.tenant = tenant
        self.service = service
        self.route = route
        self.pipeline = pipeline
        self.params = params
        self.policy = policy


@dataclass(slots=True)
class _CompiledRoute:
    route: Route
    methods: frozenset[str] | None  # None means any
    segments: list[str | None]  # None marks a parameter
    names: list[str]
    pipeline: Pipeline
    policy: Policy


@dataclass(slots=True)
class _CompiledService:
    tenant: Tenant
    service: Service
    prefix: str
    routes: list[_CompiledRoute]
    default: _CompiledRoute


class RouteTable:
    def __init__(
        self, config: GatewayConfig, registry: StageRegistry, resources: Resources
    ) -> None:
        self._exact: dict[str, list[_CompiledService]] = {}
        self._wildcard: dict[str, list[_CompiledService]] = {}
        for tenant in config.tenants:
            tenant_policy = merge_policy(config.policy, tenant.policy)
            for service in tenant.services:
                compiled = _compile_service(
                    config, tenant, service, tenant_policy, registry, resources
                )
                for host in service.hosts:
                    table = self._wildcard if host.startswith("*.") else self._exact
                    key = host[2:] if host.startswith("*.") else host
                    table.setdefault(key, []).append(compiled)
        for services in (*self._exact.values(), *self._wildcard.values()):
            services.sort(key=lambda item: len(item.prefix), reverse=True)

    def services(self) -> list[tuple[Tenant, Service]]:
        seen: dict[tuple[str, str], tuple[Tenant, Service]] = {}
        for services in (*self._exact.values(), *self._wildcard.values()):
            for item in services:
                seen[(item.tenant.id, item.service.id)] = (item.tenant, item.service)
        return list(seen.values())

    def match(self, host: str, method: str, path: str) -> RouteMatch | None:
        """Find the route for a request; ``host`` is lower-case without its port."""
        candidates = self._exact.get(host)
        if candidates is None:
            _, _, parent = host.partition(".")
            candidates = self._wildcard.get(parent)
            if candidates is None:
                return None
        segments = split_path(path)
        for item in candidates:
            if not _under_prefix(path, item.prefix):
                continue
            for compiled in item.routes:
                params = _match_route(compiled, method, segments)
                if params is not None:
                    return RouteMatch(
                        item.tenant,
                        item.service,
                        compiled.route,
                        compiled.pipeline,
                        params,
                        compiled.policy,
                    )
            default = item.default
            return RouteMatch(
                item.tenant, item.service, default.route, default.pipeline, {}, default.policy
            )
        return None


def split_path(path: str) -> list[str]:
    """Split an absolute path into percent-decoded segments; reject dot segments.

    Dot segments (also percent-encoded ones) are rejected rather than
    resolved, so the gateway and the backend can never see different paths.
    """
    segments = path.split("/")[1:]
    if "%" in path:
        segments = [unquote(segment) if "%" in segment else segment for segment in segments]
    elif "." not in path:
        return segments  # neither a dot nor an encoded one: no dot segment possible
    for segment in segments:
        if segment in (".", ".."):
            raise PathError(f"dot segment in path {path!r}")
    return segments


def _under_prefix(path: str, prefix: str) -> bool:
    if prefix == "/":
        return True
    if not path.startswith(prefix):
        return False
    return prefix.endswith("/") or len(path) == len(prefix) or path[len(prefix)] in "/?"


def _match_route(
    compiled: _CompiledRoute, method: str, segments: list[str]
) -> dict[str, str] | None:
    if compiled.methods is not None and method not in compiled.methods:
        return None
    if len(segments) != len(compiled.segments):
        return None
    params: dict[str, str] = {}
    names = iter(compiled.names)
    for expected, actual in zip(compiled.segments, segments, strict=True):
        if expected is None:
            if not actual:
                return None
            params[next(names)] = actual
        elif expected != actual:
            return None
    return params


def _compile_service(
    config: GatewayConfig,
    tenant: Tenant,
    service: Service,
    tenant_policy: Policy,
    registry: StageRegistry,
    resources: Resources,
) -> _CompiledService:
    service_policy = merge_policy(tenant_policy, service.policy)
    routes = [
        _compile_route(
            config,
            tenant,
            service,
            route,
            merge_policy(service_policy, route.policy),
            registry,
            resources,
        )
        for route in service.routes
    ]
    default = _compile_route(
        config, tenant, service, DEFAULT_ROUTE, service_policy, registry, resources
    )
    return _CompiledService(tenant, service, service.path_prefix, routes, default)


def _compile_route(
    config: GatewayConfig,
    tenant: Tenant,
    service: Service,
    route: Route,
    policy: Policy,
    registry: StageRegistry,
    resources: Resources,
) -> _CompiledRoute:
    context = RouteContext(config, tenant, service, route, policy, resources)
    segments: list[str | None] = []
    names: list[str] = []
    for segment in route.path.split("/")[1:]:
        if segment.startswith("{"):
            segments.append(None)
            names.append(segment[1:-1])
        else:
            segments.append(segment)
    methods = None if "*" in route.methods else frozenset(route.methods)
    return _CompiledRoute(route, methods, segments, names, registry.build(context), policy)
