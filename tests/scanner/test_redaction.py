"""Evidence redaction: no credential or leaked secret survives into a report."""

from __future__ import annotations

import json

import httpx

from stockade.scanner import jwt_tokens
from stockade.scanner.client import Reply, SentRequest
from stockade.scanner.redaction import REDACTED, Redactor, is_sensitive_name

TOKEN = jwt_tokens.sign_hmac({"sub": "1"}, b"k" * 32)


def _reply(url: str, request_headers: list[tuple[str, str]], body: object,
           response_headers: dict[str, str] | None = None) -> Reply:
    data = json.dumps(body).encode()
    return Reply(SentRequest("POST", url, request_headers, data), 200,
                 httpx.Headers(response_headers or {}), data, 0.01)


def test_credential_headers_redacted() -> None:
    redactor = Redactor(key_names=["X-Tenant-Key"])
    assert redactor.header("Cookie", "session=abc") == REDACTED
    assert redactor.header("Authorization", "Basic YWxpY2U6cHc=") == f"Basic {REDACTED}"
    assert redactor.header("x-tenant-key", "k-123456") == REDACTED
    header = redactor.header("Authorization", f"Bearer {TOKEN}")
    assert header.startswith("Bearer eyJ")
    assert header.endswith(f".{REDACTED}.{REDACTED}")


def test_literal_secrets_replaced_everywhere() -> None:
    redactor = Redactor(["alice-demo-pass"])
    evidence = redactor.evidence(
        _reply("http://127.0.0.1/x?note=alice-demo-pass", [("X-Note", "alice-demo-pass")],
               {"echo": "the password was alice-demo-pass"}), "note")
    text = repr(evidence.to_dict())
    assert "alice-demo-pass" not in text
    assert REDACTED in evidence.request.url


def test_query_credentials_redacted() -> None:
    url = Redactor().url(f"http://127.0.0.1/me?access_token={TOKEN}&page=2")
    assert TOKEN not in url
    assert "page=2" in url


def test_json_members_and_sensitive_values_redacted() -> None:
    body = {"user": {"password_hash": "pbkdf2$x", "ssn": "900-12-3456",
                     "notes": "card 4111 1111 1111 1111", "email": "a@example.com",
                     "is_admin": False}, "token": TOKEN}
    text = Redactor().body(json.dumps(body))
    for leaked in ("pbkdf2$x", "900-12-3456", "4111 1111 1111 1111", TOKEN.split(".")[1]):
        assert leaked not in text
    assert "a@example.com" in text
    assert '"is_admin": false' in text


def test_long_bodies_cut() -> None:
    text = Redactor().body("x" * 10_000)
    assert len(text) < 5_000
    assert text.endswith("more characters]")


def test_sensitive_names() -> None:
    for name in ("password_hash", "SSN", "cardNumber", "internal_notes", "api_key", "pin"):
        assert is_sensitive_name(name), name
    for name in ("card_last4", "email", "company", "spinner"):
        assert not is_sensitive_name(name), name
