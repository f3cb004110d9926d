"""The HTTP client that auth uses for JWKS documents and token introspection.

One ``httpx.AsyncClient`` per worker, shared by every route. Responses are
read up to a size cap, redirects are not followed, and every failure comes
out as ``FetchError`` naming the URL.
"""

from __future__ import annotations

import json
import ssl
from typing import Any

import httpx

MAX_RESPONSE_BYTES = 1024 * 1024  # JWKS and introspection responses are a few KiB; more is a fault
USER_AGENT = "stockade-gateway"


class FetchError(Exception):
    """A JWKS or introspection request failed; the message names the URL and the cause."""


class JsonClient:
    __slots__ = ("_client",)

    def __init__(self, ca_bundle: str | None = None) -> None:
        """Verify servers against ``ca_bundle`` (a PEM file), or the system's CAs without one."""
        verify: ssl.SSLContext | bool = True
        if ca_bundle is not None:
            try:
                verify = ssl.create_default_context(cafile=ca_bundle)
            except (OSError, ssl.SSLError) as error:
                raise ValueError(f"cannot load tls_ca_bundle {ca_bundle}: {error}") from None
        self._client = httpx.AsyncClient(
            verify=verify,
            follow_redirects=False,
            headers={"User-Agent": USER_AGENT},
            trust_env=False,
        )

    async def get_json(self, url: str, timeout: float) -> Any:
        request = self._client.build_request(
            "GET", url, headers={"Accept": "application/json"}, timeout=timeout
        )
        return await self._send(request)

    async def post_form(
        self, url: str, form: dict[str, str], timeout: float, authorization: str | None = None
    ) -> Any:
        headers = {"Accept": "application/json"}
        if authorization is not None:
            headers["Authorization"] = authorization
        request = self._client.build_request(
            "POST", url, data=form, timeout=timeout, headers=headers
        )
        return await self._send(request)

    async def close(self) -> None:
        await self._client.aclose()

    async def _send(self, request: httpx.Request) -> Any:
        url = str(request.url)
        try:
            response = await self._client.send(request, stream=True)
            try:
                if response.status_code != 200:
                    raise FetchError(
                        f"{request.method} {url} returned status {response.status_code}"
                    )
                body = bytearray()
                async for chunk in response.aiter_bytes():
                    body += chunk
                    if len(body) > MAX_RESPONSE_BYTES:
                        raise FetchError(
                            f"{request.method} {url} returned more than {MAX_RESPONSE_BYTES} bytes"
                        )
            finally:
                await response.aclose()
        except httpx.HTTPError as error:
            raise FetchError(
                f"{request.method} {url} failed: {type(error).__name__}: {error}"
            ) from None
        try:
            return json.loads(body)
        except ValueError as error:
            raise FetchError(f"{request.method} {url} returned invalid JSON: {error}") from None
