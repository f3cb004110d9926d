"""The Core Rule Set through a running gateway: a few CRS regression requests end to end."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.support import gateway as gateway_support
from tests.support.client import request
from tests.support.gateway import GatewayProcess, service_config
from tests.support.upstream import TestUpstream

Factory = Callable[..., GatewayProcess]
CRS_START_SECONDS = 180.0
"""Time for a worker to load the CRS and start listening: about 5 s on an idle 2-core VM,
over 20 s when other test processes share the cores."""
CRS_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "crs" / "v4.28.0"

pytestmark = pytest.mark.crs

CASES = [
    # (what the request is, raw request head and body, blocked?)
    ("942100-1 SQL injection in a query argument",
     b"GET /get?var=1234%20OR%201=1 HTTP/1.1\r\nHost: api.test\r\n"
     b"User-Agent: OWASP CRS test agent\r\nAccept: */*\r\n\r\n", True),
    ("941100-1 XSS in a form body",
     b"POST /post HTTP/1.1\r\nHost: api.test\r\nUser-Agent: OWASP CRS test agent\r\n"
     b"Accept: */*\r\nContent-Type: application/x-www-form-urlencoded\r\n"
     b"Content-Length: 47\r\n\r\npayload=<script>alert(document.cookie)</script>", True),
    ("path traversal to an OS file (rules 930100-930120)",
     b"GET /get?file=../../../../etc/passwd HTTP/1.1\r\nHost: api.test\r\n"
     b"User-Agent: OWASP CRS test agent\r\nAccept: */*\r\n\r\n", True),
    ("ordinary JSON PATCH with the API defaults",
     b"PATCH /v1/users/7 HTTP/1.1\r\nHost: api.test\r\nUser-Agent: curl/8.5.0\r\n"
     b"Accept: application/json\r\nContent-Type: application/json\r\n"
     b"Content-Length: 16\r\n\r\n{\"name\": \"Ana\"}\n", False),
]


def _waf_config(upstream: TestUpstream, mode: str) -> dict[str, Any]:
    config = service_config([upstream.address])
    config["tenants"][0]["policy"] = {"modes": {"waf": mode},
                                      "waf": {"crs_path": str(CRS_DIR)}}
    return config


@pytest.fixture
def crs_available(monkeypatch: pytest.MonkeyPatch) -> None:
    """Skip without the CRS, and give the gateway time to compile it before it listens."""
    if not (CRS_DIR / "rules").is_dir():
        pytest.skip(f"CRS 4.28.0 not found at {CRS_DIR}")
    monkeypatch.setattr(gateway_support, "wait_for_port",
                        functools.partial(gateway_support.wait_for_port,
                                          timeout=CRS_START_SECONDS))


@pytest.mark.usefixtures("crs_available")
def test_crs_requests_through_gateway(gateway_factory: Factory, upstream: TestUpstream) -> None:
    gateway = gateway_factory(_waf_config(upstream, "block"))
    for name, raw, blocked in CASES:
        response = request(gateway.port, raw)
        if blocked:
            assert response.status == 403, f"{name}: status {response.status}"
        else:
            assert response.status == 200, f"{name}: status {response.status}"
    reached = [item.target for item in upstream.requests]
    assert reached == ["/v1/users/7"]


@pytest.mark.usefixtures("crs_available")
def test_detect_mode_forwards_attacks(gateway_factory: Factory, upstream: TestUpstream) -> None:
    gateway = gateway_factory(_waf_config(upstream, "detect"))
    name, raw, _ = CASES[0]
    response = request(gateway.port, raw)
    assert response.status == 200, f"{name}: status {response.status}"
    assert [item.target for item in upstream.requests] == ["/get?var=1234%20OR%201=1"]
