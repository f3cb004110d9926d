"""Redaction of the evidence a finding carries: no credential leaves the scan.

Credentials the scan itself used (tokens, passwords, API keys) are replaced
wherever they appear. Credential headers, credential-like query parameters
and JSON members, JWTs and the sensitive values that
``stockade.protection.sensitive`` recognizes (card numbers, national ids,
cloud keys) are redacted as well, so a report proves a leak without
repeating the leaked data.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from stockade.protection.sensitive import (
    SensitiveClass,
    classify_field_name,
    find_sensitive_spans,
)
from stockade.scanner.client import Reply
from stockade.scanner.findings import (
    MAX_EVIDENCE_BODY_CHARS,
    Evidence,
    RecordedRequest,
    RecordedResponse,
)

REDACTED = "[REDACTED]"

MIN_SECRET_CHARS = 4
"""Shorter literal secrets are not replaced, because they would match ordinary text."""

CREDENTIAL_HEADERS = frozenset({
    "authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key", "api-key",
    "x-auth-token", "x-access-token",
})

SENSITIVE_NAME_PARTS = (
    "password", "passwd", "passphrase", "hash", "salt", "secret", "token", "apikey", "privatekey",
    "ssn", "socialsecurity", "cardnumber", "creditcard", "cvv", "cvc", "iban", "taxid",
    "internal", "isadmin", "birth",
)
SENSITIVE_NAMES = frozenset({"pin", "pan", "dob", "card", "nationalid"})

_REDACTED_CLASSES = frozenset({
    SensitiveClass.CREDIT_CARD, SensitiveClass.IBAN, SensitiveClass.US_SSN,
    SensitiveClass.UK_NINO, SensitiveClass.ES_DNI, SensitiveClass.AWS_ACCESS_KEY,
    SensitiveClass.GCP_API_KEY, SensitiveClass.GITHUB_TOKEN, SensitiveClass.SLACK_TOKEN,
    SensitiveClass.STRIPE_KEY, SensitiveClass.PRIVATE_KEY,
})

MAX_REDACTION_CHARS = 64 * 1024
"""Body characters redacted; evidence keeps far fewer, so the rest is cut anyway."""


def normalize_name(name: str) -> str:
    return "".join(char for char in name.lower() if char.isalnum())


def is_sensitive_name(name: str) -> bool:
    """Tell whether a field name suggests a secret or personal data (password_hash, ssn)."""
    key = normalize_name(name)
    return key in SENSITIVE_NAMES or any(part in key for part in SENSITIVE_NAME_PARTS)


class Redactor:
    """Redacts the scan's own secrets and every credential-like value from evidence."""

    def __init__(self, secrets: Iterable[str] = (), key_names: Iterable[str] = ()) -> None:
        self._secrets: list[str] = []
        self._key_names = {name.lower() for name in key_names}
        self.add_secrets(secrets)

    def add_secrets(self, secrets: Iterable[str]) -> None:
        fresh = {secret for secret in secrets if len(secret) >= MIN_SECRET_CHARS}
        self._secrets = sorted(set(self._secrets) | fresh, key=len, reverse=True)

    def text(self, value: str) -> str:
        for secret in self._secrets:
            value = value.replace(secret, REDACTED)
        spans = [match for match in find_sensitive_spans(value)
                 if match.kind in _REDACTED_CLASSES or match.kind is SensitiveClass.JWT]
        for match in sorted(spans, key=lambda item: item.start, reverse=True):
            found = value[match.start:match.end]
            if match.kind is SensitiveClass.JWT:
                # The header shows the algorithm, which alg-none evidence needs.
                replacement = found.split(".")[0] + "." + REDACTED + "." + REDACTED
            else:
                replacement = REDACTED
            value = value[:match.start] + replacement + value[match.end:]
        return value

    def header(self, name: str, value: str) -> str:
        lower = name.lower()
        if lower in CREDENTIAL_HEADERS or lower in self._key_names:
            scheme, sep, credential = value.partition(" ")
            if sep and scheme.lower() == "bearer" and credential.count(".") == 2:
                # A JWT's header names its algorithm, which alg-none evidence needs.
                return f"{scheme} {credential.split('.')[0]}.{REDACTED}.{REDACTED}"
            if sep and scheme.lower() in ("bearer", "basic", "token", "digest"):
                return f"{scheme} {REDACTED}"
            return REDACTED
        return self.text(value)

    def url(self, url: str) -> str:
        parts = urlsplit(url)
        if not parts.query:
            return self.text(url)
        pairs = []
        for name, value in parse_qsl(parts.query, keep_blank_values=True):
            if self._is_credential_member(name, value):
                value = REDACTED
            pairs.append((name, value))
        query = urlencode(pairs, safe="[]$")
        return self.text(urlunsplit(parts._replace(query=query)))

    def body(self, raw: bytes | str) -> str:
        text = raw if isinstance(raw, str) else raw.decode("utf-8", errors="replace")
        text = text[:MAX_REDACTION_CHARS]
        try:
            document = json.loads(text)
        except ValueError:
            return _cut(self.text(text))
        return _cut(self.text(json.dumps(self._redact_json(document, ""))))

    def _is_credential_member(self, name: str, value: str) -> bool:
        return (name.lower() in self._key_names or bool(classify_field_name(name, value))
                or (bool(value) and is_sensitive_name(name)))

    def _redact_json(self, node: Any, name: str) -> Any:
        if isinstance(node, dict):
            return {key: self._redact_json(value, str(key)) for key, value in node.items()}
        if isinstance(node, list):
            return [self._redact_json(item, name) for item in node]
        if isinstance(node, str | int | float) and not isinstance(node, bool) and name:
            if self._is_credential_member(name, str(node)):
                return REDACTED
        return node

    def evidence(self, reply: Reply, note: str) -> Evidence:
        request = reply.request
        recorded = RecordedRequest(
            request.method, self.url(request.url),
            [(name, self.header(name, value)) for name, value in request.headers],
            self.body(request.body) if request.body else "")
        response = RecordedResponse(
            reply.status,
            [(name, self.header(name, value)) for name, value in reply.headers.items()],
            self.body(reply.body), reply.elapsed)
        return Evidence(note, recorded, response)


def _cut(text: str) -> str:
    if len(text) <= MAX_EVIDENCE_BODY_CHARS:
        return text
    cut = len(text) - MAX_EVIDENCE_BODY_CHARS
    return text[:MAX_EVIDENCE_BODY_CHARS] + f"... [{cut} more characters]"
