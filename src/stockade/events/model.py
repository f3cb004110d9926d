"""Security events: typed records of a detection or a block.

Security events are kept apart from operational logs. Evidence is redacted by
whoever builds the event; sinks never see secrets.
"""

from __future__ import annotations

import enum
import time
import uuid
from dataclasses import asdict, dataclass, field
from typing import Any


class Severity(enum.IntEnum):
    INFO = 0
    LOW = 1
    MEDIUM = 2
    HIGH = 3
    CRITICAL = 4


class Action(enum.Enum):
    BLOCKED = "blocked"
    DETECTED = "detected"  # a reject verdict in detect mode: recorded, request forwarded
    OBSERVED = "observed"  # a finding with no verdict, such as a new shadow endpoint


@dataclass(slots=True)
class SecurityEvent:
    tenant: str
    layer: str  # the stage's layer name: waf, auth, ratelimit, protection, ...
    kind: str  # short machine name of what was found, e.g. "sqli", "jwt-expired"
    severity: Severity
    action: Action
    message: str
    service: str | None = None
    route: str | None = None
    request_id: str | None = None
    client_ip: str | None = None
    consumer: str | None = None
    method: str | None = None
    path: str | None = None
    rule_ids: list[str] = field(default_factory=list)
    evidence: dict[str, Any] = field(default_factory=dict)
    time: float = field(default_factory=time.time)
    id: str = field(default_factory=lambda: uuid.uuid4().hex)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["severity"] = self.severity.name.lower()
        data["action"] = self.action.value
        return data
