"""The shape every event sink has, and the error a failed delivery raises."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from typing import Protocol
from urllib.parse import urlsplit

from stockade.events.model import SecurityEvent


class Delivery(enum.Enum):
    """The guarantee a sink gives for each spooled event."""

    EXACTLY_ONCE = "exactly-once"  # retried, and the receiver drops repeats by event id
    AT_LEAST_ONCE = "at-least-once"  # retried; a repeat is possible after a lost reply or crash
    BEST_EFFORT = "best-effort"  # no acknowledgement exists: a receiver that is down loses events


class DeliveryError(Exception):
    """A delivery failed; the pipeline keeps the events and retries later."""


class Sink(Protocol):
    name: str
    delivery: Delivery

    async def deliver(self, events: Sequence[SecurityEvent]) -> None:
        """Send a batch; raise DeliveryError unless the receiver took all of it."""
        ...

    async def close(self) -> None:
        ...


def url_origin(url: str) -> str:
    """Return scheme, host and port of ``url`` for logs and errors.

    Webhook paths and queries often carry a secret token, so they never
    appear in a message.
    """
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"
