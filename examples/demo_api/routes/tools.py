"""Integration tools: webhook test, URL preview, and the ping diagnostic."""

import json
import time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException

from demo_api.auth import user_dependency
from demo_api.context import AppContext
from demo_api.inputs import json_object_reader, optional_str
from demo_api.outbound import (
    DestinationRejected,
    FetchResult,
    OutboundError,
    fetch_checked,
    fetch_unchecked,
)
from demo_api.shell_sim import injected_sleep_seconds, is_valid_host
from demo_api.views import User

MAX_URL_LENGTH = 2048
SIMULATED = "simulated: no packet was sent"
WEBHOOK_TEST_EVENT = json.dumps({"event": "webhook.test", "data": {}}).encode()


def build_router(context: AppContext) -> APIRouter:
    router = APIRouter()
    current_user = user_dependency(context)
    read_body = json_object_reader(fixed=context.fixed)

    @router.post("/api/v2/webhooks/test")
    def test_webhook(
        caller: Annotated[User, Depends(current_user)],
        body: Annotated[dict[str, Any], Depends(read_body)],
    ) -> dict[str, Any]:
        url = optional_str(body, "url", MAX_URL_LENGTH)
        if url is None:
            raise HTTPException(400, "property 'url' is required")
        result = _fetch(context, url, "POST", WEBHOOK_TEST_EVENT)
        answer: dict[str, Any] = {"delivered": True, "status": result.status}
        if not context.fixed:
            # Planted: the receiver's body comes back to the caller (full-read SSRF).
            answer["response"] = result.body.decode(errors="replace")
        return answer

    @router.get("/api/v2/fetch")
    def preview_url(caller: Annotated[User, Depends(current_user)], url: str) -> dict[str, Any]:
        if len(url) > MAX_URL_LENGTH:
            raise HTTPException(400, f"url must be at most {MAX_URL_LENGTH} characters")
        result = _fetch(context, url, "GET", None)
        return {"status": result.status, "content": result.body.decode(errors="replace")}

    @router.get("/api/v2/diagnostics/ping")
    def ping(caller: Annotated[User, Depends(current_user)], host: str) -> dict[str, Any]:
        if context.fixed and not is_valid_host(host):
            raise HTTPException(400, f"host {host!r} is not an IP address or a DNS name")
        if not context.fixed:
            # Planted (simulated) command injection: see shell_sim.
            time.sleep(injected_sleep_seconds(host))
        return {
            "host": host,
            "output": f"PING {host}: 1 packet transmitted, 1 received ({SIMULATED})",
        }

    return router


def _fetch(context: AppContext, url: str, method: str, body: bytes | None) -> FetchResult:
    try:
        if context.fixed:
            return fetch_checked(url, context.settings.webhook_allowlist, method, body)
        # Planted SSRF: the server requests whatever URL the client names.
        return fetch_unchecked(url, method, body)
    except DestinationRejected as exc:
        raise HTTPException(400, str(exc)) from None
    except OutboundError as exc:
        raise HTTPException(502, str(exc)) from None
