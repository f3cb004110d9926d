"""Who is calling: the consumer the auth layer verified, or a passive identity from a token.

A passive identity reads a claim of the bearer JWT without checking its
signature. It is only as trustworthy as the backend's own token check, so
the protection stages use it to tell callers apart, never to grant access.
The auth-signals detector rejects tokens that carry no signature.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
from dataclasses import dataclass
from typing import Any

from stockade.gateway.exchange import Exchange
from stockade.protection.config import IdentitySettings

MAX_TOKEN_BYTES = 8192
"""Longer bearer tokens are not decoded; the auth layer's default cap is the same."""

STATE_KEY = "protection.identity"
MAX_CACHED_TOKENS = 10_000
"""Decoded tokens kept per worker process; about 5 MB at this size."""


@dataclass(frozen=True, slots=True)
class Caller:
    id: str
    groups: frozenset[str]
    scopes: frozenset[str]
    verified: bool  # True when an authentication stage identified the consumer


def bearer_token(exchange: Exchange) -> str | None:
    value = exchange.request.fields.get(b"authorization")
    if value is None or len(value) > MAX_TOKEN_BYTES:
        return None
    scheme, _, token = value.decode("latin-1").strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def decode_segment(segment: str) -> Any:
    """Decode one base64url JSON segment of a JWT; return None when it is not one."""
    try:
        raw = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
        return json.loads(raw)
    except (binascii.Error, ValueError):
        return None


def unverified_claims(token: str) -> dict[str, Any] | None:
    parts = token.split(".")
    if len(parts) != 3:
        return None
    claims = decode_segment(parts[1])
    return claims if isinstance(claims, dict) else None


def _groups(value: Any) -> frozenset[str]:
    if isinstance(value, str):
        return frozenset(value.split())
    if isinstance(value, list):
        return frozenset(str(item) for item in value if isinstance(item, str | int))
    return frozenset()


def caller_of(exchange: Exchange, settings: IdentitySettings) -> Caller | None:
    """Return the caller of ``exchange``, computed once per exchange."""
    if STATE_KEY in exchange.state:
        cached: Caller | None = exchange.state[STATE_KEY]
        return cached
    caller = _resolve(exchange, settings)
    exchange.state[STATE_KEY] = caller
    return caller


def _resolve(exchange: Exchange, settings: IdentitySettings) -> Caller | None:
    consumer = exchange.consumer
    if consumer is not None:
        return Caller(consumer.id, consumer.groups, consumer.scopes, True)
    if settings.jwt_claim is None:
        return None
    token = bearer_token(exchange)
    return passive_caller(token, settings.jwt_claim, settings.groups_claim) if token else None


@functools.lru_cache(maxsize=MAX_CACHED_TOKENS)
def passive_caller(token: str, claim: str, groups_claim: str | None) -> Caller | None:
    """Return the caller a token names; cached, since a client sends the same token many times."""
    claims = unverified_claims(token)
    if claims is None:
        return None
    subject = claims.get(claim)
    if not isinstance(subject, str | int) or isinstance(subject, bool) or subject == "":
        return None
    groups = _groups(claims.get(groups_claim)) if groups_claim else frozenset()
    return Caller(f"jwt:{subject}", groups, _groups(claims.get("scope")), False)
