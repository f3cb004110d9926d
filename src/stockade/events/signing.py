"""HMAC-SHA256 signatures of webhook bodies.

The signed text is ``TIMESTAMP.BODY``: the sender's Unix time in seconds, a
dot, and the exact body bytes. Signing the time lets a receiver reject a
replayed request; signing the exact bytes means a receiver must verify
before parsing.
"""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "X-Stockade-Signature"
TIMESTAMP_HEADER = "X-Stockade-Timestamp"
SIGNATURE_SCHEME = "sha256"

DEFAULT_TOLERANCE_SECONDS = 300
"""How far a receiver accepts the signed time from its own clock, both ways."""


def sign(key: bytes, timestamp: int, body: bytes) -> str:
    """Return the signature header value, ``sha256=<hex>``."""
    digest = hmac.new(key, str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"{SIGNATURE_SCHEME}={digest}"


def verify(key: bytes, timestamp_header: str, body: bytes, signature_header: str, now: float,
           tolerance_seconds: float = DEFAULT_TOLERANCE_SECONDS) -> bool:
    """Check a received signature and its time, in constant time for the digest."""
    if not timestamp_header.isdigit():
        return False
    timestamp = int(timestamp_header)
    if abs(now - timestamp) > tolerance_seconds:
        return False
    return hmac.compare_digest(sign(key, timestamp, body), signature_header)
