"""API keys from a request field or query parameter."""

from __future__ import annotations

import hmac
import time
from urllib.parse import unquote_to_bytes

from stockade.auth.config import ApiKeyAuth
from stockade.auth.directory import ConsumerDirectory
from stockade.auth.hashing import api_key_digest
from stockade.auth.outcome import API_KEY, AuthFailure, AuthOutcome
from stockade.gateway.exchange import Exchange

MAX_API_KEY_BYTES = 512  # generated keys are 46 bytes; longer values are not keys
MAX_QUERY_PAIRS = 256  # query pairs scanned for the key parameter


class ApiKeyAuthenticator:
    scheme = API_KEY

    def __init__(self, settings: ApiKeyAuth, directory: ConsumerDirectory, *, hide: bool) -> None:
        self._header = settings.header.encode("ascii") if settings.header else None
        self._parameter = (
            settings.query_parameter.encode("ascii") if settings.query_parameter else None
        )
        self._directory = directory
        self._hide = hide

    async def authenticate(self, exchange: Exchange) -> AuthOutcome:
        key = self._read_key(exchange)
        if key is None:
            return None
        if isinstance(key, AuthFailure):
            return key
        if not key or len(key) > MAX_API_KEY_BYTES:
            return AuthFailure("api-key-malformed", API_KEY, f"key of {len(key)} bytes")
        digest = api_key_digest(key)
        stored = self._directory.api_keys.get(digest)
        # The look-up is on a digest the client cannot steer; compare_digest keeps it constant-time.
        if stored is None or not hmac.compare_digest(stored.digest, digest):
            return AuthFailure(
                "api-key-unknown",
                API_KEY,
                "no consumer has this key",
                evidence={"key_digest_prefix": digest[:4].hex()},
            )
        evidence = {"consumer": stored.consumer.id, "key_id": stored.key_id}
        if stored.revoked:
            return AuthFailure("api-key-revoked", API_KEY, "key is revoked", evidence=evidence)
        if stored.expires_at is not None and stored.expires_at <= time.time():
            return AuthFailure("api-key-expired", API_KEY, "key has expired", evidence=evidence)
        if stored.consumer.disabled:
            return AuthFailure(
                "consumer-disabled", API_KEY, "consumer is disabled", evidence=evidence
            )
        return self._directory.to_consumer(
            stored.consumer, method="api-key", credential=f"api-key:{stored.key_id}"
        )

    def _read_key(self, exchange: Exchange) -> bytes | AuthFailure | None:
        request = exchange.request
        if self._header is not None:
            values = request.fields.get_all(self._header)
            if len(values) > 1:
                return AuthFailure(
                    "api-key-ambiguous", API_KEY, "the key field appears more than once"
                )
            if values:
                if self._hide:
                    request.fields.remove(self._header)
                return values[0]
        if self._parameter is not None and request.query:
            return self._read_query(exchange)
        return None

    def _read_query(self, exchange: Exchange) -> bytes | AuthFailure | None:
        request = exchange.request
        found: list[bytes] = []
        other_pairs: list[bytes] = []
        pairs = request.query.split(b"&")
        for pair in pairs[:MAX_QUERY_PAIRS]:
            name, _, value = pair.partition(b"=")
            if unquote_to_bytes(name.replace(b"+", b" ")) == self._parameter:
                found.append(unquote_to_bytes(value.replace(b"+", b" ")))
            else:
                other_pairs.append(pair)
        if not found:
            return None
        if len(found) > 1:
            return AuthFailure(
                "api-key-ambiguous", API_KEY, "the key parameter appears more than once"
            )
        if self._hide:
            other_pairs.extend(pairs[MAX_QUERY_PAIRS:])
            query = b"&".join(other_pairs)
            request.target = request.path + (b"?" + query if query else b"")
        return found[0]
