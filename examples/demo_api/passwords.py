"""Salted PBKDF2 password hashes, stored as ``pbkdf2_sha256$ITERATIONS$SALT$HASH``."""

from __future__ import annotations

import hashlib
import hmac
import secrets

PBKDF2_ITERATIONS = 20_000
"""Work factor of the demo's hashes.

NOTE: far below current recommendations for PBKDF2-SHA256, so that the
demo starts and logs in quickly. Do not reuse it.
"""

SALT_BYTES = 16
SCHEME = "pbkdf2_sha256"


def hash_password(password: str) -> str:
    """Hash ``password`` with a fresh random salt."""
    salt = secrets.token_bytes(SALT_BYTES)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, PBKDF2_ITERATIONS)
    return f"{SCHEME}${PBKDF2_ITERATIONS}${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    """Check ``password`` against a stored hash in constant time."""
    parts = stored.split("$")
    if len(parts) != 4 or parts[0] != SCHEME:
        return False
    iterations, salt_hex, digest_hex = int(parts[1]), parts[2], parts[3]
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), bytes.fromhex(salt_hex), iterations)
    return hmac.compare_digest(digest.hex(), digest_hex)


DUMMY_HASH = hash_password(secrets.token_urlsafe(SALT_BYTES))
"""Hash of a random password, verified for unknown usernames so that a failed
login takes as long whether or not the user exists."""
