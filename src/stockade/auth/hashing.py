"""Hashes of stored credentials: API keys under SHA-256, passwords under scrypt.

API keys are generated with 256 bits of entropy, so one SHA-256 pass is
enough to make a leaked config useless and lets the gateway find a key by its
digest in O(1). Passwords are chosen by people and get scrypt, a slow,
memory-hard hash, with a random salt per password.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets

API_KEY_PREFIX = "sk_"  # the prefix the admin store gives generated keys
API_KEY_ENTROPY_BYTES = 32  # 256 bits: brute force of the SHA-256 digest stays out of reach
API_KEY_HASH_SCHEME = "sha256"

SCRYPT_SCHEME = "scrypt"
SCRYPT_N = 2**14  # CPU/memory cost; about 16 MiB and tens of milliseconds per check
SCRYPT_R = 8
SCRYPT_P = 1
SCRYPT_SALT_BYTES = 16
SCRYPT_HASH_BYTES = 32
SCRYPT_MAX_MEMORY_BYTES = 256 * 1024 * 1024  # per check; refuses hashes that would take seconds


class CredentialHashError(ValueError):
    """A stored credential hash is malformed."""


def new_api_key() -> str:
    """Generate a random API key of 256 bits, URL-safe, with a recognisable prefix."""
    return API_KEY_PREFIX + secrets.token_urlsafe(API_KEY_ENTROPY_BYTES)


def api_key_digest(key: str | bytes) -> bytes:
    raw = key.encode("utf-8") if isinstance(key, str) else key
    return hashlib.sha256(raw).digest()


def hash_api_key(key: str) -> str:
    """Return the stored form of an API key: ``sha256:<hex digest>``."""
    return f"{API_KEY_HASH_SCHEME}:{api_key_digest(key).hex()}"


def parse_api_key_hash(stored: str) -> bytes:
    """Return the digest bytes of a ``sha256:<hex>`` string; raise CredentialHashError otherwise."""
    scheme, sep, hex_digest = stored.partition(":")
    if not sep or scheme != API_KEY_HASH_SCHEME:
        raise CredentialHashError(
            f"API key hash {_preview(stored)} must look like 'sha256:<64 hex digits>'; "
            "create one with 'stockade credentials new-api-key'"
        )
    try:
        digest = bytes.fromhex(hex_digest)
    except ValueError:
        digest = b""
    if len(digest) != hashlib.sha256().digest_size:
        raise CredentialHashError(
            f"API key hash {_preview(stored)} must have 64 hex digits after 'sha256:'"
        )
    return digest


def hash_password(password: str) -> str:
    """Return ``scrypt$N$r$p$salt$hash`` (salt and hash in unpadded base64)."""
    salt = secrets.token_bytes(SCRYPT_SALT_BYTES)
    derived = _scrypt(
        password.encode("utf-8"), salt, SCRYPT_N, SCRYPT_R, SCRYPT_P, SCRYPT_HASH_BYTES
    )
    return "$".join(
        (SCRYPT_SCHEME, str(SCRYPT_N), str(SCRYPT_R), str(SCRYPT_P), _b64(salt), _b64(derived))
    )


class PasswordHash:
    """A parsed scrypt password hash, checked once at config load."""

    __slots__ = ("derived", "n", "p", "r", "salt")

    def __init__(self, stored: str) -> None:
        parts = stored.split("$")
        if len(parts) != 6 or parts[0] != SCRYPT_SCHEME:
            raise CredentialHashError(
                "password hash must look like 'scrypt$N$r$p$salt$hash'; "
                "create one with 'stockade credentials hash-password'"
            )
        try:
            self.n, self.r, self.p = int(parts[1]), int(parts[2]), int(parts[3])
            self.salt = _unb64(parts[4])
            self.derived = _unb64(parts[5])
        except (ValueError, binascii.Error) as error:
            raise CredentialHashError(f"password hash has an invalid field: {error}") from None
        if self.n < 2 or self.n & (self.n - 1):
            raise CredentialHashError(f"password hash N={self.n} must be a power of two")
        if not (1 <= self.r <= 32 and 1 <= self.p <= 16):
            raise CredentialHashError(
                f"password hash r={self.r} p={self.p} are out of range (r 1-32, p 1-16)"
            )
        if 2 * 128 * self.r * self.n > SCRYPT_MAX_MEMORY_BYTES:
            raise CredentialHashError(
                f"password hash N={self.n} r={self.r} needs more than "
                f"{SCRYPT_MAX_MEMORY_BYTES // (1024 * 1024)} MiB per check; use smaller N or r"
            )
        if len(self.salt) < 8 or len(self.derived) < 16:
            raise CredentialHashError(
                "password hash salt or digest is too short (8 and 16 bytes minimum)"
            )

    def verify(self, password: bytes) -> bool:
        """Hash ``password`` with the stored parameters and compare in constant time (slow)."""
        derived = _scrypt(password, self.salt, self.n, self.r, self.p, len(self.derived))
        return hmac.compare_digest(derived, self.derived)


def _scrypt(password: bytes, salt: bytes, n: int, r: int, p: int, length: int) -> bytes:
    return hashlib.scrypt(
        password, salt=salt, n=n, r=r, p=p, dklen=length, maxmem=SCRYPT_MAX_MEMORY_BYTES
    )


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)


def _preview(stored: str) -> str:
    """Show only the scheme of a bad hash, never its body."""
    return repr(stored.partition(":")[0] + ":...")


DUMMY_PASSWORD_HASH = PasswordHash(
    "$".join(
        (
            SCRYPT_SCHEME,
            str(SCRYPT_N),
            str(SCRYPT_R),
            str(SCRYPT_P),
            _b64(bytes(SCRYPT_SALT_BYTES)),
            _b64(bytes(SCRYPT_HASH_BYTES)),
        )
    )
)
"""Checked when the user name is unknown, so that both cases cost the same time."""
