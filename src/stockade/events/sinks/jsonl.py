"""The JSON lines sink: events appended to a file, one object a line."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Sequence
from pathlib import Path

from stockade.events.model import SecurityEvent
from stockade.events.serialization import encode_line
from stockade.events.sinks.base import Delivery, DeliveryError


class JsonLinesSink:
    # A crash after the write and before the spool cursor moves repeats the batch.
    delivery = Delivery.AT_LEAST_ONCE

    def __init__(self, name: str, path: Path) -> None:
        self.name = name
        self.path = path

    def _append(self, data: bytes) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("ab") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())

    async def deliver(self, events: Sequence[SecurityEvent]) -> None:
        data = b"".join(encode_line(event) for event in events)
        try:
            await asyncio.to_thread(self._append, data)
        except OSError as exc:
            raise DeliveryError(f"cannot append to {self.path}: {exc}") from exc

    async def close(self) -> None:
        return None
