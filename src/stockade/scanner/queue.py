"""Scans queued through the admin API, and the runner that carries them out.

An operator queues a scan of a service with a ``ScanRequest``: where the
API is, its OpenAPI document, the auth profiles and the scan settings.
``prepare_request`` checks it against the service before it is stored,
so a scan can only reach one of the service's own hosts or upstream
targets. ``ScanRunner`` runs in the admin server: it claims the oldest
queued scan, runs it, and stores the findings as security events, as the
scan's summary and, when asked, as route blocks.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from typing import Any

from pydantic import Field, field_validator
from sqlalchemy.exc import SQLAlchemyError

from stockade.config.base import StrictModel
from stockade.config.models import Service
from stockade.scanner.auth import AuthError, AuthProfile
from stockade.scanner.blocks import DEFAULT_BLOCK_SECONDS, findings_to_blocks
from stockade.scanner.checks import CHECK_NAMES
from stockade.scanner.client import (
    DEFAULT_CONCURRENCY,
    DEFAULT_TIMEOUT_SECONDS,
    ScanRequestError,
    Target,
    TargetError,
)
from stockade.scanner.events import finding_summary, findings_to_events
from stockade.scanner.openapi import OpenApiError
from stockade.scanner.planning import ScanSettings
from stockade.scanner.runner import ScanConfig, ScanResult, run_scan
from stockade.store import scans
from stockade.store.blocks import MAX_BLOCK_SECONDS
from stockade.store.database import StoreError
from stockade.store.errors import NotFound
from stockade.store.events import insert_events
from stockade.store.route_blocks import add_route_block
from stockade.store.scope import Row, Scope, Store
from stockade.store.tenancy import get_service

log = logging.getLogger(__name__)

RUNNER_ACTOR = "scan-runner"
POLL_SECONDS = 2.0
"""Seconds between looks for a queued scan when none is waiting."""
STALE_SCAN_SECONDS = 24 * 3600
"""A scan still running after this long is taken as abandoned by a stopped runner."""
MAX_ERROR_CHARS = 2000


class ScanRequest(StrictModel):
    """Target, document, credentials and settings of a scan queued through the admin API."""

    target: str | None = Field(
        None, description="Base URL of the API; default: the service's first upstream target. "
                          "Its host must be one of the service's hosts or upstream targets.")
    openapi: str | None = Field(
        None, description="URL of the OpenAPI document on the target, or a path on it; "
                          "default: the service's own document.")
    headers: dict[str, str] = Field(
        default_factory=dict, description="Headers sent with every request, such as Host "
                                          "when the target is a gateway address.")
    profiles: list[AuthProfile] = Field(
        default_factory=list, max_length=20,
        description="Auth profiles, as in stockade scan --auth-file. Their secrets are never "
                    "returned by the API.")
    checks: list[str] | None = Field(None, description="Check names; default: every check.")
    include: list[str] = Field(default_factory=list)
    exclude: list[str] = Field(default_factory=list)
    safe: bool = Field(False, description="Send only GET, HEAD and OPTIONS.")
    rate: float | None = Field(None, gt=0, le=10_000, description="Requests per second.")
    concurrency: int = Field(DEFAULT_CONCURRENCY, ge=1, le=64)
    timeout_seconds: float = Field(DEFAULT_TIMEOUT_SECONDS, gt=0, le=300)
    verify_tls: bool = True
    canary: bool = Field(True, description="Start the loopback SSRF canary listener.")
    block_routes: bool = Field(
        False, description="Add route blocks that close findings to the service.")
    block_seconds: float = Field(DEFAULT_BLOCK_SECONDS, gt=0, le=MAX_BLOCK_SECONDS)

    @field_validator("checks")
    @classmethod
    def _known_checks(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        unknown = sorted(set(value) - set(CHECK_NAMES))
        if unknown or not value:
            raise ValueError(f"unknown or no checks {unknown}; use {', '.join(CHECK_NAMES)}")
        return value

    @field_validator("headers")
    @classmethod
    def _plain_headers(cls, value: dict[str, str]) -> dict[str, str]:
        for name, text in value.items():
            if not name or any(char in name for char in ":\r\n\0") or any(
                    char in text for char in "\r\n\0"):
                raise ValueError(f"invalid header {name!r}: a name has no colon, and neither "
                                 "name nor value has a line break or NUL")
        return value


def _endpoints(service: Service) -> set[tuple[str, int | None]]:
    """Hosts (with a port when one is fixed) that a scan of ``service`` may reach."""
    allowed: set[tuple[str, int | None]] = {
        (host.lower(), None) for host in service.hosts if not host.startswith("*.")}
    for target in service.upstream.targets:
        host, _, port = target.rpartition(":")
        allowed.add((host.strip("[]").lower(), int(port) if port.isdigit() else None))
    return allowed


def prepare_request(service: Service, request: ScanRequest) -> ScanRequest:
    """Fill in the defaults from ``service`` and check that the scan stays on it.

    Raises ValueError naming the problem: a target that is not one of the
    service's hosts or upstream targets, a document that is not on the
    target, or no document at all.
    """
    target_url = request.target
    if target_url is None:
        scheme = "https" if service.upstream.tls is not None else "http"
        target_url = f"{scheme}://{service.upstream.targets[0]}"
    target = Target.parse(target_url)
    allowed = _endpoints(service)
    if (target.host, None) not in allowed and (target.host, target.port) not in allowed:
        choices = ", ".join(sorted(f"{host}:{port}" if port else host for host, port in allowed))
        raise TargetError(f"invalid target {target_url!r}: its host is neither a host nor an "
                          f"upstream target of service {service.id!r}; use one of {choices}")
    openapi = request.openapi
    if openapi is None:
        if service.openapi is None:
            raise ValueError(f"service {service.id!r} declares no OpenAPI document; give "
                             "openapi, a URL or path of the document on the target")
        openapi = service.openapi
    elif openapi.startswith("/"):
        openapi = target.origin + openapi
    else:
        target.check(openapi)
    return request.model_copy(update={"target": target_url, "openapi": openapi})


def scan_config(request: ScanRequest) -> ScanConfig:
    """Build the scanner's config from a prepared request."""
    if request.target is None or request.openapi is None:
        raise ValueError("the scan request was not prepared: target and openapi are missing")
    settings = ScanSettings(
        include=request.include, exclude=request.exclude, safe=request.safe,
        checks=frozenset(request.checks) if request.checks is not None else None)
    return ScanConfig(target=request.target, openapi=request.openapi,
                      profiles=list(request.profiles), settings=settings, rate=request.rate,
                      concurrency=request.concurrency, timeout=request.timeout_seconds,
                      verify_tls=request.verify_tls, canary=request.canary,
                      headers=dict(request.headers))


def record_result(store: Store, scan: Row, request: ScanRequest, result: ScanResult) -> int:
    """Store a finished scan's findings; return how many route blocks it added."""
    tenant, service = scan["tenant_id"], scan["service_id"]
    events = findings_to_events(result.findings, tenant, result.started, service)
    blocks = findings_to_blocks(result.findings) if request.block_routes else []
    with store.session(tenant, RUNNER_ACTOR) as scope:
        insert_events(scope, events)
        for block in blocks:
            add_route_block(scope, tenant, service, block.method, block.path, block.reason,
                            request.block_seconds, origin="scanner", finding_id=block.finding_id)
        error = "; ".join(result.errors)[:MAX_ERROR_CHARS] or None
        notes = list(result.notes)
        if request.block_routes:
            notes.append(f"{len(blocks)} route blocks added or renewed for service {service}, "
                         f"for {request.block_seconds:.0f} s")
        scans.update_scan(scope, tenant, scan["scan_id"], "finished",
                          [finding_summary(finding) for finding in result.findings], error,
                          notes)
    return len(blocks)


class ScanRunner:
    """Runner of queued scans, one at a time in a thread of its own, until ``stop``."""

    def __init__(self, store: Store, poll_seconds: float = POLL_SECONDS) -> None:
        self.store = store
        self.poll_seconds = poll_seconds
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._main: asyncio.Task[None] | None = None
        self._ready = threading.Event()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._serve, name="scan-runner", daemon=True)
        self._thread.start()
        self._ready.wait(10)

    def stop(self, timeout: float = 10.0) -> None:
        """Cancel the scan in progress (it is marked failed) and end the thread."""
        if self._thread is None or not self._thread.is_alive():
            return
        if self._loop is not None and self._main is not None:
            with contextlib.suppress(RuntimeError):  # the loop closed in the meantime
                self._loop.call_soon_threadsafe(self._main.cancel)
        self._thread.join(timeout)
        if self._thread.is_alive():
            log.error("the scan runner did not stop within %.0f s", timeout)

    def _serve(self) -> None:
        asyncio.run(self._run())

    async def _run(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._main = asyncio.current_task()
        self._ready.set()
        log.info("scan runner started")
        failures = 0
        stale_checked = False
        try:
            while True:
                try:
                    if not stale_checked:
                        self._fail_stale()
                        stale_checked = True
                    ran = await self.run_next()
                    failures = 0
                except (SQLAlchemyError, StoreError) as exc:
                    # The store may be down or not yet migrated; queued scans wait for it.
                    failures += 1
                    if failures == 1 or failures % 100 == 0:
                        log.error("the scan runner cannot read the store (%d times in a row), "
                                  "retrying every %.0f s: %s", failures, self.poll_seconds, exc)
                    ran = False
                if not ran:
                    await asyncio.sleep(self.poll_seconds)
        except asyncio.CancelledError:
            log.info("scan runner stopped")

    def _fail_stale(self) -> None:
        with self.store.session(None, RUNNER_ACTOR) as scope:
            stale = scans.fail_stale_scans(scope, time.time() - STALE_SCAN_SECONDS)
        if stale:
            log.warning("marked %d abandoned scans as failed", stale)

    async def run_next(self) -> bool:
        """Claim and run the oldest queued scan; return False when none was queued."""
        with self.store.session(None, RUNNER_ACTOR) as scope:
            scan = scans.claim_scan(scope)
        if scan is None:
            return False
        scan_id, tenant = scan["scan_id"], scan["tenant_id"]
        log.info("scan %s of %s/%s started", scan_id, tenant, scan["service_id"])
        try:
            request = ScanRequest.model_validate(scan["request"])
            result = await run_scan(scan_config(request))
            if result.requests == 0:
                reason = result.errors[0] if result.errors else "no check sent a request"
                self._fail(scan, f"no request reached the target: {reason}")
                return True
            blocked = await asyncio.to_thread(record_result, self.store, scan, request, result)
        except asyncio.CancelledError:
            self._fail(scan, "the admin server stopped during the scan")
            raise
        except (AuthError, OpenApiError, TargetError, ScanRequestError, ValueError,
                NotFound) as exc:
            self._fail(scan, str(exc))
            return True
        except Exception as exc:
            log.exception("scan %s of tenant %s failed", scan_id, tenant)
            self._fail(scan, f"internal error: {exc!r}")
            return True
        log.info("scan %s of tenant %s finished: %d findings, %d requests, %d route blocks",
                 scan_id, tenant, len(result.findings), result.requests, blocked)
        return True

    def _fail(self, scan: Row, reason: str) -> None:
        log.warning("scan %s of tenant %s failed: %s", scan["scan_id"], scan["tenant_id"],
                    reason)
        with self.store.session(None, RUNNER_ACTOR) as scope:
            scans.update_scan(scope, scan["tenant_id"], scan["scan_id"], "failed",
                              error=reason[:MAX_ERROR_CHARS])


def queue_scan(scope: Scope, tenant: str, service_id: str, request: ScanRequest) -> Row:
    """Check ``request`` against the service and queue it; return the scan, secrets masked."""
    service = get_service(scope, tenant, service_id)
    prepared = prepare_request(service, request)
    data: dict[str, Any] = prepared.model_dump(mode="json")
    return scans.create_scan(scope, tenant, service_id, data)
