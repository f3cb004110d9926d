"""The HEC sink: batches of events to a Splunk HTTP Event Collector."""

from __future__ import annotations

import socket
import ssl
from collections.abc import Sequence

import httpx

from stockade.events.hec import AUTHORIZATION_SCHEME, hec_accepted, hec_body, hec_url
from stockade.events.model import SecurityEvent
from stockade.events.sinks.base import Delivery, DeliveryError, url_origin


class HecSink:
    # Without the collector's indexer acknowledgement a reply lost after
    # the collector took the batch makes the retry repeat it.
    delivery = Delivery.AT_LEAST_ONCE

    def __init__(self, name: str, base_url: str, token: str, *, source: str, sourcetype: str,
                 index: str | None, timeout_seconds: float,
                 verify: ssl.SSLContext | bool = True) -> None:
        self.name = name
        self.url = hec_url(base_url)
        self._token = token
        self._host = socket.gethostname()
        self._source = source
        self._sourcetype = sourcetype
        self._index = index
        self._client = httpx.AsyncClient(timeout=timeout_seconds, verify=verify)

    def __repr__(self) -> str:
        return f"HecSink(name={self.name!r}, url={url_origin(self.url)!r})"  # never the token

    async def deliver(self, events: Sequence[SecurityEvent]) -> None:
        body = hec_body(events, host=self._host, source=self._source,
                        sourcetype=self._sourcetype, index=self._index)
        headers = {"Authorization": f"{AUTHORIZATION_SCHEME} {self._token}",
                   "Content-Type": "application/json"}
        try:
            response = await self._client.post(self.url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            detail = str(exc).replace(self.url, url_origin(self.url))
            raise DeliveryError(f"POST to {url_origin(self.url)} failed: "
                                f"{exc.__class__.__name__}: {detail}") from exc
        if not hec_accepted(response.status_code, response.content):
            raise DeliveryError(f"collector at {url_origin(self.url)} rejected the batch: status "
                                f"{response.status_code}, reply {response.text[:200]!r}")

    async def close(self) -> None:
        await self._client.aclose()
