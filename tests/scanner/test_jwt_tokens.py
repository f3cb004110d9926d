"""Forging and cracking JWTs for the authentication check."""

from __future__ import annotations

import secrets

import jwt
import pytest

from stockade.scanner import jwt_tokens

WEAK_KEY_WARNING = "ignore::jwt.warnings.InsecureKeyLengthWarning"


@pytest.mark.filterwarnings(WEAK_KEY_WARNING)
@pytest.mark.parametrize("alg", ["HS256", "HS384", "HS512"])
def test_crack_finds_listed_secret(alg: str) -> None:
    token = jwt.encode({"sub": "1"}, "changeme", algorithm=alg)
    parsed = jwt_tokens.parse(token)
    assert parsed is not None
    assert jwt_tokens.crack_hmac(parsed, jwt_tokens.load_wordlist()) == "changeme"


def test_crack_misses_random_key() -> None:
    token = jwt.encode({"sub": "1"}, secrets.token_hex(32), algorithm="HS256")
    parsed = jwt_tokens.parse(token)
    assert parsed is not None
    assert jwt_tokens.crack_hmac(parsed, jwt_tokens.load_wordlist()) is None


def test_wordlist_has_common_weak_secrets() -> None:
    words = jwt_tokens.load_wordlist()
    for word in ("secret", "changeme", "password", "jwt-secret"):
        assert word in words
    assert not any(word.startswith("#") for word in words)
    assert len(words) == len(set(words))


@pytest.mark.filterwarnings(WEAK_KEY_WARNING)
def test_sign_hmac_verifies_with_pyjwt() -> None:
    token = jwt_tokens.sign_hmac({"sub": "4"}, b"changeme", "HS256")
    assert jwt.decode(token, "changeme", algorithms=["HS256"]) == {"sub": "4"}


def test_unsigned_token_has_alg_none_and_no_signature() -> None:
    token = jwt_tokens.unsigned({"sub": "4"})
    assert token.endswith(".")
    assert jwt.get_unverified_header(token)["alg"] == "none"


def test_strip_and_tamper_signature() -> None:
    token = jwt.encode({"sub": "1"}, secrets.token_hex(32), algorithm="HS256")
    assert jwt_tokens.strip_signature(token) == token.rsplit(".", 1)[0] + "."
    tampered = jwt_tokens.tamper_signature(token)
    assert tampered != token
    assert tampered.rsplit(".", 1)[0] == token.rsplit(".", 1)[0]


@pytest.mark.parametrize("text", ["abc", "a.b.c", "eyJhbGciOiJIUzI1NiJ9.bm90IGpzb24.sig"])
def test_parse_rejects_non_jwt(text: str) -> None:
    assert jwt_tokens.parse(text) is None


def test_mask_secret_hides_all_but_first_character() -> None:
    assert jwt_tokens.mask_secret("changeme") == "c******* (8 characters)"
