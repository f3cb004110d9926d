"""JWT handling for the authentication checks: parse, forge and crack HMAC keys.

Tokens are signed with ``hmac`` over the RFC 7515 signing input rather
than with PyJWT, because PyJWT rejects a PEM public key as an HMAC key
and the key confusion probe needs exactly that. Cracking compares
candidate signatures with ``hmac.compare_digest``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from dataclasses import dataclass
from importlib import resources
from typing import Any

HMAC_DIGESTS = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}

WORDLIST = "jwt-secrets.txt"


@dataclass(frozen=True, slots=True)
class ParsedToken:
    header: dict[str, Any]
    claims: dict[str, Any]
    signing_input: bytes
    signature: bytes

    @property
    def algorithm(self) -> str:
        return str(self.header.get("alg", ""))


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def parse(token: str) -> ParsedToken | None:
    """Parse a compact JWS; None when ``token`` is not a JWT with JSON header and claims."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        header = json.loads(b64url_decode(parts[0]))
        claims = json.loads(b64url_decode(parts[1]))
        signature = b64url_decode(parts[2])
    except (binascii.Error, ValueError):
        return None
    if not isinstance(header, dict) or not isinstance(claims, dict):
        return None
    return ParsedToken(header, claims, f"{parts[0]}.{parts[1]}".encode(), signature)


def _segment(data: dict[str, Any]) -> str:
    return b64url_encode(json.dumps(data, separators=(",", ":")).encode())


def unsigned(claims: dict[str, Any], alg: str = "none") -> str:
    """A token with the given ``alg`` header value and an empty signature."""
    return f"{_segment({'alg': alg, 'typ': 'JWT'})}.{_segment(claims)}."


def sign_hmac(claims: dict[str, Any], key: bytes, alg: str = "HS256",
              header: dict[str, Any] | None = None) -> str:
    digest = HMAC_DIGESTS[alg]
    head = {**(header or {}), "alg": alg, "typ": "JWT"}
    signing_input = f"{_segment(head)}.{_segment(claims)}"
    signature = hmac.new(key, signing_input.encode(), digest).digest()
    return f"{signing_input}.{b64url_encode(signature)}"


def strip_signature(token: str) -> str:
    """The token with its signature removed, header unchanged."""
    return token.rsplit(".", 1)[0] + "."


def tamper_signature(token: str) -> str:
    """The token with the first byte of its signature flipped."""
    head, _, signature = token.rpartition(".")
    raw = bytearray(b64url_decode(signature) or b"\0")
    raw[0] ^= 0x01
    return f"{head}.{b64url_encode(bytes(raw))}"


def load_wordlist() -> list[str]:
    """The weak HMAC secrets shipped with the scanner, one per line, # comments skipped."""
    text = resources.files("stockade.scanner.wordlists").joinpath(WORDLIST).read_text("utf-8")
    words = []
    for line in text.splitlines():
        word = line.strip()
        if word and not word.startswith("#"):
            words.append(word)
    return words


def crack_hmac(parsed: ParsedToken, words: list[str]) -> str | None:
    """Return the word that produced the token's HMAC signature, or None."""
    digest = HMAC_DIGESTS.get(parsed.algorithm.upper())
    if digest is None or not parsed.signature:
        return None
    for word in words:
        candidate = hmac.new(word.encode(), parsed.signing_input, digest).digest()
        if hmac.compare_digest(candidate, parsed.signature):
            return word
    return None


def mask_secret(secret: str) -> str:
    """Show a found secret only by its first character and length."""
    return f"{secret[:1]}{'*' * max(len(secret) - 1, 0)} ({len(secret)} characters)"
