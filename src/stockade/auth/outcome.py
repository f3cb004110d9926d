"""Authenticator results: a consumer, a failure, or None when the request lacks that credential."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from stockade.gateway.exchange import Consumer, Exchange

BEARER = "Bearer"
BASIC = "Basic"
API_KEY = "ApiKey"  # not a registered scheme; names the challenge for API-key routes
CERTIFICATE = "Certificate"


@dataclass(frozen=True, slots=True)
class AuthFailure:
    reason: str  # machine name for the security event, e.g. "jwt-expired"
    scheme: str  # the challenge sent with the 401
    message: str = ""  # for the analyst, never the client
    status: int = 401
    evidence: dict[str, Any] = field(default_factory=dict)  # key ids, issuer, never a secret


AuthOutcome = Consumer | AuthFailure | None


class Authenticator(Protocol):
    scheme: str

    async def authenticate(self, exchange: Exchange) -> AuthOutcome: ...
