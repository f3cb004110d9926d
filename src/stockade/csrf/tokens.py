"""CSRF tokens: double-submit random values and HMAC-signed values.

In both modes the gateway stores the token in a cookie and the page sends
it back in a request field. A cross-site page cannot read the cookie, and a
custom field cannot be sent cross-origin without a CORS preflight, so a
forged request lacks the field. Signed tokens also carry an HMAC over the
tenant, the service, the issue time and the session cookie, so a token
planted by a sibling subdomain or taken from another session fails.

Token format (signed): ``v1.<issued unix seconds>.<nonce>.<mac>``, with the
nonce and the MAC in unpadded base64url.
"""

from __future__ import annotations

import base64
import enum
import hashlib
import hmac
import os
import secrets
import time
from typing import Protocol

from stockade.csrf.config import CsrfToken

NONCE_BYTES = 16  # 128 bits, so tokens never repeat
DOUBLE_SUBMIT_BYTES = 32
MIN_KEY_BYTES = 32  # HMAC-SHA256 keys shorter than the hash output weaken it
CLOCK_SKEW_SECONDS = 60  # a token issued this far in the future (another node's clock) passes
MAX_TOKEN_CHARS = 256  # longer header or cookie values are rejected unread
SIGNED_VERSION = "v1"


class TokenCheck(enum.Enum):
    VALID = "valid"
    MISSING = "csrf-token-missing"  # no field, or no cookie
    MISMATCH = "csrf-token-mismatch"  # field and cookie differ
    INVALID = "csrf-token-invalid"  # malformed, or a signature that does not verify
    EXPIRED = "csrf-token-expired"


class TokenCodec(Protocol):
    def issue(self, binding: bytes | None, now: float) -> str: ...

    def check_cookie(self, value: bytes, binding: bytes | None, now: float) -> TokenCheck:
        """Check a cookie value alone: may it be kept, or must a new token be issued?"""
        ...

    def renew_due(self, value: bytes, now: float) -> bool: ...


class DoubleSubmitCodec:
    """Random tokens; the cookie is whatever the gateway issued, so any well-formed value stays."""

    def issue(self, binding: bytes | None, now: float) -> str:
        return secrets.token_urlsafe(DOUBLE_SUBMIT_BYTES)

    def check_cookie(self, value: bytes, binding: bytes | None, now: float) -> TokenCheck:
        if not value or len(value) > MAX_TOKEN_CHARS or not _is_base64url(value):
            return TokenCheck.INVALID
        return TokenCheck.VALID

    def renew_due(self, value: bytes, now: float) -> bool:
        return False


class SignedCodec:
    def __init__(self, keys: list[bytes], scope: str, max_age_seconds: int) -> None:
        self._keys = keys  # the first signs; all verify
        self._scope = scope.encode("utf-8")
        self._max_age = max_age_seconds

    def issue(self, binding: bytes | None, now: float) -> str:
        issued = str(int(now))
        nonce = _b64(secrets.token_bytes(NONCE_BYTES))
        mac = _b64(self._mac(self._keys[0], issued, nonce, binding))
        return f"{SIGNED_VERSION}.{issued}.{nonce}.{mac}"

    def check_cookie(self, value: bytes, binding: bytes | None, now: float) -> TokenCheck:
        if len(value) > MAX_TOKEN_CHARS or not value.isascii():
            return TokenCheck.INVALID
        parts = value.decode("ascii").split(".")
        if len(parts) != 4 or parts[0] != SIGNED_VERSION or not parts[1].isdigit():
            return TokenCheck.INVALID
        _, issued, nonce, mac = parts
        if len(issued) > 12:
            return TokenCheck.INVALID
        signed_ok = any(
            hmac.compare_digest(_b64(self._mac(key, issued, nonce, binding)), mac)
            for key in self._keys
        )
        if not signed_ok:
            return TokenCheck.INVALID
        age = now - int(issued)
        if age > self._max_age or age < -CLOCK_SKEW_SECONDS:
            return TokenCheck.EXPIRED
        return TokenCheck.VALID

    def renew_due(self, value: bytes, now: float) -> bool:
        """Return True in the second half of a token's life, so pages rarely hold an expired one."""
        parts = value.split(b".")
        if len(parts) != 4 or not parts[1].isdigit() or len(parts[1]) > 12:
            return True
        return now - int(parts[1]) > self._max_age / 2

    def _mac(self, key: bytes, issued: str, nonce: str, binding: bytes | None) -> bytes:
        bound = hashlib.sha256(binding).hexdigest() if binding is not None else "-"
        message = b"|".join(
            (SIGNED_VERSION.encode(), self._scope, issued.encode(), nonce.encode(), bound.encode())
        )
        return hmac.new(key, message, hashlib.sha256).digest()


def check_request_token(
    codec: TokenCodec,
    sent: bytes | None,
    cookies: list[bytes],
    binding: bytes | None,
    now: float | None = None,
) -> TokenCheck:
    """Check the token in the request field against the token cookie and the codec's rules."""
    if sent is None or not cookies:
        return TokenCheck.MISSING
    sent = sent.strip()
    if not sent or len(sent) > MAX_TOKEN_CHARS:
        return TokenCheck.INVALID
    matching = [value for value in cookies if hmac.compare_digest(value, sent)]
    if not matching:
        return TokenCheck.MISMATCH
    return codec.check_cookie(sent, binding, time.time() if now is None else now)


def build_codec(settings: CsrfToken, scope: str) -> TokenCodec:
    """Build the codec of a token section; raise ValueError when a key variable is unusable."""
    if settings.mode == "double_submit":
        return DoubleSubmitCodec()
    if settings.key_env is None:
        raise ValueError("csrf token mode 'signed' needs key_env naming the HMAC key variable")
    keys = [_read_key(settings.key_env)]
    if settings.previous_key_env:
        keys.append(_read_key(settings.previous_key_env))
    return SignedCodec(keys, scope, settings.max_age_seconds)


def _read_key(variable: str) -> bytes:
    value = os.environ.get(variable, "")
    if len(value.encode("utf-8")) < MIN_KEY_BYTES:
        state = "is not set" if not value else f"holds fewer than {MIN_KEY_BYTES} bytes"
        raise ValueError(
            f"csrf token key: environment variable {variable} {state}; set it to a random "
            f"secret of at least {MIN_KEY_BYTES} bytes, e.g. from `openssl rand -hex 32`"
        )
    return value.encode("utf-8")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


_BASE64URL = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def _is_base64url(value: bytes) -> bool:
    return all(byte in _BASE64URL for byte in value)
