"""Security events in the JSON format of the Splunk HTTP Event Collector.

A batch is the event objects one after another, which is how the
collector's ``/services/collector/event`` endpoint accepts several events
in one request. Pure functions: the HEC sink does the HTTP work.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from stockade.events.model import SecurityEvent
from stockade.events.serialization import event_to_json

HEC_EVENT_PATH = "/services/collector/event"
AUTHORIZATION_SCHEME = "Splunk"


def hec_record(event: SecurityEvent, *, host: str, source: str, sourcetype: str,
               index: str | None) -> dict[str, Any]:
    record: dict[str, Any] = {
        "time": round(event.time, 3),
        "host": host,
        "source": source,
        "sourcetype": sourcetype,
        "event": event_to_json(event),
    }
    if index:
        record["index"] = index
    return record


def hec_body(events: Sequence[SecurityEvent], *, host: str, source: str, sourcetype: str,
             index: str | None) -> bytes:
    records = (hec_record(event, host=host, source=source, sourcetype=sourcetype, index=index)
               for event in events)
    return "\n".join(json.dumps(record, separators=(",", ":"), default=str)
                     for record in records).encode()


def hec_url(base_url: str) -> str:
    return base_url.rstrip("/") + HEC_EVENT_PATH


def hec_accepted(status: int, body: bytes) -> bool:
    """Return True when the collector took the whole batch: status 200 and code 0."""
    if status != 200:
        return False
    try:
        reply = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return False
    return isinstance(reply, dict) and reply.get("code") == 0
