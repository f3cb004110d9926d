"""The webhook sink: a signed JSON POST per batch of events."""

from __future__ import annotations

import json
import ssl
import time
from collections.abc import Sequence

import httpx

from stockade.events.model import SecurityEvent
from stockade.events.serialization import event_to_json
from stockade.events.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign
from stockade.events.sinks.base import Delivery, DeliveryError, url_origin


def webhook_body(events: Sequence[SecurityEvent]) -> bytes:
    return json.dumps({"events": [event_to_json(event) for event in events]},
                      separators=(",", ":"), default=str).encode()


class WebhookSink:
    # A reply lost after the receiver took the batch makes the retry repeat it;
    # receivers drop repeats by event id.
    delivery = Delivery.AT_LEAST_ONCE

    def __init__(self, name: str, url: str, key: bytes, timeout_seconds: float,
                 verify: ssl.SSLContext | bool = True) -> None:
        self.name = name
        self.url = url
        self._key = key
        self._client = httpx.AsyncClient(timeout=timeout_seconds, verify=verify)

    def __repr__(self) -> str:
        return f"WebhookSink(name={self.name!r}, url={url_origin(self.url)!r})"  # never the key

    async def deliver(self, events: Sequence[SecurityEvent]) -> None:
        body = webhook_body(events)
        timestamp = int(time.time())
        headers = {
            "Content-Type": "application/json",
            TIMESTAMP_HEADER: str(timestamp),
            SIGNATURE_HEADER: sign(self._key, timestamp, body),
        }
        try:
            response = await self._client.post(self.url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            detail = str(exc).replace(self.url, url_origin(self.url))
            raise DeliveryError(f"POST to {url_origin(self.url)} failed: "
                                f"{exc.__class__.__name__}: {detail}") from exc
        if not 200 <= response.status_code < 300:
            raise DeliveryError(
                f"POST to {url_origin(self.url)} returned status {response.status_code}")

    async def close(self) -> None:
        await self._client.aclose()
