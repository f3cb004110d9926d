"""HTTP Basic authentication (RFC 7617) against scrypt password hashes.

scrypt costs tens of milliseconds of CPU, so checks run in a thread, at most
``max_concurrent_checks`` at once per worker, and a verified user name and
password pair is remembered for ``cache_seconds`` under a keyed hash. An
unknown user name costs the same scrypt run as a wrong password.
"""

from __future__ import annotations

import asyncio
import binascii
import hashlib
import hmac
import secrets
import time
from base64 import b64decode
from collections import OrderedDict

from stockade.auth.config import BasicAuth
from stockade.auth.directory import ConsumerDirectory, StoredPassword
from stockade.auth.hashing import DUMMY_PASSWORD_HASH
from stockade.auth.outcome import BASIC, AuthFailure, AuthOutcome
from stockade.gateway.exchange import Exchange

MAX_BASIC_CREDENTIALS_BYTES = 1024  # base64 of a user name and password; longer is not a login
MAX_CACHED_LOGINS = 10_000  # verified logins remembered per worker


def parse_authorization(value: bytes) -> tuple[bytes, bytes] | None:
    """Split an Authorization value into scheme (lower-cased) and credentials."""
    scheme, _, credentials = value.strip().partition(b" ")
    if not scheme:
        return None
    return scheme.lower(), credentials.strip()


class BasicAuthenticator:
    scheme = BASIC

    def __init__(self, settings: BasicAuth, directory: ConsumerDirectory, *, hide: bool) -> None:
        self._settings = settings
        self._directory = directory
        self._hide = hide
        self._checks = asyncio.Semaphore(settings.max_concurrent_checks)
        self._cache_key = secrets.token_bytes(32)
        self._verified: OrderedDict[bytes, tuple[float, str]] = OrderedDict()

    async def authenticate(self, exchange: Exchange) -> AuthOutcome:
        value = exchange.request.fields.get(b"authorization")
        parsed = parse_authorization(value) if value is not None else None
        if parsed is None or parsed[0] != b"basic":
            return None
        if self._hide:
            exchange.request.fields.remove(b"authorization")
        login = _decode(parsed[1])
        if login is None:
            return AuthFailure(
                "basic-malformed", BASIC, "credentials are not base64 of user:password"
            )
        username, password = login
        stored = self._directory.passwords.get(username)
        evidence = {"username": username[:256]}
        matches = await self._password_matches(username, password, stored)
        if stored is None or not matches:
            reason = "basic-unknown-user" if stored is None else "basic-wrong-password"
            return AuthFailure(reason, BASIC, "user name or password is wrong", evidence=evidence)
        if stored.consumer.disabled:
            return AuthFailure(
                "consumer-disabled", BASIC, "consumer is disabled", evidence=evidence
            )
        return self._directory.to_consumer(
            stored.consumer, method="basic", credential=f"basic:{username}"
        )

    async def _password_matches(
        self, username: str, password: bytes, stored: StoredPassword | None
    ) -> bool:
        tag = hmac.new(
            self._cache_key, username.encode("utf-8") + b"\0" + password, hashlib.sha256
        ).digest()
        now = time.monotonic()
        hit = self._verified.get(tag)
        if hit is not None and hit[0] > now and hit[1] == username and stored is not None:
            return True
        target = stored.password if stored is not None else DUMMY_PASSWORD_HASH
        async with self._checks:
            matches = await asyncio.to_thread(target.verify, password)
        if not matches or stored is None:
            return False
        if self._settings.cache_seconds > 0:
            self._verified[tag] = (now + self._settings.cache_seconds, username)
            while len(self._verified) > MAX_CACHED_LOGINS:
                self._verified.popitem(last=False)
        return True


def _decode(credentials: bytes) -> tuple[str, bytes] | None:
    if not credentials or len(credentials) > MAX_BASIC_CREDENTIALS_BYTES:
        return None
    try:
        decoded = b64decode(credentials, validate=True)
        username_bytes, sep, password = decoded.partition(b":")
        username = username_bytes.decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    if not sep or not username:
        return None
    return username, password
