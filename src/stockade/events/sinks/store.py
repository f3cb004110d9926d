"""The store sink: events into the store's events table, once each."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from sqlalchemy.exc import SQLAlchemyError

from stockade.events.model import SecurityEvent
from stockade.events.sinks.base import Delivery, DeliveryError
from stockade.store.events import insert_events
from stockade.store.scope import Store

PIPELINE_ACTOR = "event-pipeline"


class StoreSink:
    # Inserting an event id that is already stored is a no-op, so retries never repeat one.
    delivery = Delivery.EXACTLY_ONCE

    def __init__(self, name: str, store: Store) -> None:
        self.name = name
        self.store = store

    def _insert(self, events: Sequence[SecurityEvent]) -> int:
        with self.store.session(None, PIPELINE_ACTOR) as scope:
            return insert_events(scope, events)

    async def deliver(self, events: Sequence[SecurityEvent]) -> None:
        try:
            await asyncio.to_thread(self._insert, events)
        except SQLAlchemyError as exc:
            raise DeliveryError(f"store insert failed: {exc.__class__.__name__}: {exc}") from exc

    async def close(self) -> None:
        await asyncio.to_thread(self.store.close)
