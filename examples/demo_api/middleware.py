"""ASGI middleware: error pages, CORS and response headers for each variant."""

from __future__ import annotations

import logging
import traceback

from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

logger = logging.getLogger(__name__)

SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "Strict-Transport-Security": "max-age=31536000; includeSubDomains",
}
"""Headers the fixed variant sets on every response. Browsers ignore HSTS
over plain HTTP; it is there for a TLS-terminating proxy to pass on."""

DISCLOSURE_HEADERS = {"X-Powered-By": "FastAPI; Python"}
"""Headers the vulnerable variant adds, naming its software stack."""

PREFLIGHT_MAX_AGE_SECONDS = "600"
REFLECTED_METHODS = "GET, POST, PUT, PATCH, DELETE, OPTIONS"


class ErrorMiddleware:
    """Turns an unhandled exception into a 500 JSON response.

    With ``verbose`` the response carries the exception and its stack trace
    (the vulnerable variant's planted misconfiguration). Without it the
    response states only that the server failed.
    """

    def __init__(self, app: ASGIApp, *, verbose: bool) -> None:
        self.app = app
        self.verbose = verbose

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_and_note(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        except Exception as exc:
            logger.exception("unhandled error on %s %s", scope["method"], scope["path"])
            if started:
                raise
            await self._answer(exc)(scope, receive, send)

    def _answer(self, exc: Exception) -> Response:
        if not self.verbose:
            return JSONResponse({"error": "internal server error"}, status_code=500)
        return JSONResponse(
            {
                "error": f"{type(exc).__name__}: {exc}",
                "traceback": "".join(traceback.format_exception(exc)),
            },
            status_code=500,
        )


class HeadersMiddleware:
    """Adds fixed headers to every HTTP response."""

    def __init__(self, app: ASGIApp, *, headers: dict[str, str]) -> None:
        self.app = app
        self.headers = headers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in self.headers.items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)


class ReflectingCorsMiddleware:
    """Planted CORS misconfiguration: any Origin is echoed back with credentials.

    A page on any site can then call the API with the victim's cookies or
    credentials and read the response.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_headers = Headers(scope=scope)
        origin = request_headers.get("origin")
        if origin is None:
            await self.app(scope, receive, send)
            return
        cors = {
            "Access-Control-Allow-Origin": origin,
            "Access-Control-Allow-Credentials": "true",
            "Vary": "Origin",
        }
        if scope["method"] == "OPTIONS" and "access-control-request-method" in request_headers:
            cors["Access-Control-Allow-Methods"] = REFLECTED_METHODS
            cors["Access-Control-Allow-Headers"] = request_headers.get(
                "access-control-request-headers", "*"
            )
            cors["Access-Control-Max-Age"] = PREFLIGHT_MAX_AGE_SECONDS
            await Response(status_code=200, headers=cors)(scope, receive, send)
            return
        await HeadersMiddleware(self.app, headers=cors)(scope, receive, send)
