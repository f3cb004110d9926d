"""Security events to and from JSON-ready dictionaries, for spools and sinks."""

from __future__ import annotations

import json
from typing import Any

from stockade.events.model import Action, SecurityEvent, Severity


class EventDecodeError(ValueError):
    """A stored event record cannot be read back."""


def event_to_json(event: SecurityEvent) -> dict[str, Any]:
    return event.to_dict()


def event_from_json(data: dict[str, Any]) -> SecurityEvent:
    try:
        return SecurityEvent(
            tenant=data["tenant"], layer=data["layer"], kind=data["kind"],
            severity=Severity[str(data["severity"]).upper()], action=Action(data["action"]),
            message=data["message"], service=data.get("service"), route=data.get("route"),
            request_id=data.get("request_id"), client_ip=data.get("client_ip"),
            consumer=data.get("consumer"), method=data.get("method"), path=data.get("path"),
            rule_ids=list(data.get("rule_ids", [])), evidence=dict(data.get("evidence", {})),
            time=float(data["time"]), id=str(data["id"]),
        )
    except (KeyError, ValueError, TypeError) as exc:
        raise EventDecodeError(f"invalid event record: {exc!r}") from exc


def encode_line(event: SecurityEvent) -> bytes:
    """One event as a compact JSON line ending in a newline."""
    return json.dumps(event_to_json(event), separators=(",", ":"), ensure_ascii=False,
                      default=str).encode() + b"\n"


def decode_line(line: bytes) -> SecurityEvent:
    try:
        data = json.loads(line)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise EventDecodeError(f"invalid event line: {exc}") from exc
    if not isinstance(data, dict):
        raise EventDecodeError("invalid event line: not a JSON object")
    return event_from_json(data)
