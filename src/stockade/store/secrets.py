"""Generate, hash and check the secrets the store keeps: API keys and operator tokens.

Secrets are random 32-byte tokens, so one SHA-256 hash is enough to store
them: there is no password to guess, only 256 bits of randomness. A secret
is shown once at creation and never stored or logged in clear.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

SECRET_BYTES = 32
"""Random bytes in a generated secret: 256 bits, beyond any guessing."""

PREFIX_LENGTH = 8
"""Leading characters kept in clear so that operators can tell secrets apart."""


def generate_secret(label: str) -> str:
    """Return a new secret such as ``sk_3q...``; ``label`` names its kind for humans."""
    return f"{label}_{secrets.token_urlsafe(SECRET_BYTES)}"


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def secret_prefix(secret: str) -> str:
    return secret[:PREFIX_LENGTH]


def secret_matches(secret: str, stored_hash: str) -> bool:
    return hmac.compare_digest(hash_secret(secret), stored_hash)
