from __future__ import annotations

import pytest

from stockade.protection.sensitive import (
    MAX_SCAN_CHARS,
    SensitiveClass,
    find_sensitive,
    find_sensitive_field,
    find_sensitive_json,
    find_sensitive_spans,
    iban_valid,
    luhn_valid,
    scan_json,
)

POSITIVES = [
    ("write to jane.roe@example.org today", SensitiveClass.EMAIL),
    ("call +1 (415) 555-2671", SensitiveClass.PHONE),
    ("+44 20 7946 0958", SensitiveClass.PHONE),
    ("office 415-555-2671", SensitiveClass.PHONE),
    ("card 4111 1111 1111 1111", SensitiveClass.CREDIT_CARD),
    ("5500-0000-0000-0004", SensitiveClass.CREDIT_CARD),
    ("amex 378282246310005", SensitiveClass.CREDIT_CARD),
    ("iban DE89 3704 0044 0532 0130 00", SensitiveClass.IBAN),
    ("GB82WEST12345698765432", SensitiveClass.IBAN),
    ("FR1420041010050500013M02606", SensitiveClass.IBAN),
    ("ssn 078-05-1120", SensitiveClass.US_SSN),
    ("nino AB 12 34 56 C", SensitiveClass.UK_NINO),
    ("dni 12345678Z", SensitiveClass.ES_DNI),
    ("nie X1234567L", SensitiveClass.ES_DNI),
    ("Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjMifQ.c2lnbmF0dXJl", SensitiveClass.JWT),
    ("key AKIAIOSFODNN7EXAMPLE", SensitiveClass.AWS_ACCESS_KEY),
    ("AIzaSyA-1234567890abcdefghijklmnopqrstu", SensitiveClass.GCP_API_KEY),
    ("ghp_" + "A1b2" * 9, SensitiveClass.GITHUB_TOKEN),
    ("xoxb-123456789012-abcdefABCDEF", SensitiveClass.SLACK_TOKEN),
    ("sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc", SensitiveClass.STRIPE_KEY),
    ("-----BEGIN PRIVATE KEY-----\nMIIE", SensitiveClass.PRIVATE_KEY),
    ("AccountName=x;AccountKey=" + "A1b/" * 21 + "Ab==;", SensitiveClass.AZURE_STORAGE_KEY),
    ("SG." + "a" * 22 + "." + "B" * 43, SensitiveClass.SENDGRID_KEY),
    ("from 203.0.113.9", SensitiveClass.IP_ADDRESS),
    ("peer 2001:db8::8a2e:370:7334", SensitiveClass.IP_ADDRESS),
]

NEGATIVES = [
    "order 4111111111111112 shipped",  # fails the Luhn check
    "DE89 3704 0044 0532 0130 01",  # wrong IBAN checksum
    "ssn 000-12-3456",  # area 000 is never issued
    "dni 12345678A",  # wrong check letter
    "eyJub3QiOiJqd3QifQ.eyJ4IjoxfQ.x",  # header has no alg
    "version 1.2.3 released",
    "meeting at 12:30:45",
    "std::vector<int>",
    "999.1.1.1 is not an address",
    "order id 1234567890123",
    "plain words only",
]


@pytest.mark.parametrize(("value", "expected"), POSITIVES)
def test_positive_values(value: str, expected: SensitiveClass) -> None:
    assert expected in find_sensitive(value)


@pytest.mark.parametrize("value", NEGATIVES)
def test_negative_values(value: str) -> None:
    assert find_sensitive(value) == set()


def test_luhn_and_iban_checks() -> None:
    assert luhn_valid("79927398713")
    assert not luhn_valid("79927398710")
    assert iban_valid("NL91 ABNA 0417 1643 00")
    assert not iban_valid("NL91 ABNA 0417 1643 01")
    assert not iban_valid("DE89370400440532013000999")  # wrong length for DE


def test_spans_point_at_value() -> None:
    value = "contact: jane.roe@example.org."
    (match,) = find_sensitive_spans(value)
    assert value[match.start : match.end] == "jane.roe@example.org"


def test_iban_followed_by_capitals_trimmed() -> None:
    value = "GB82WEST12345698765432 OK"
    (match,) = [item for item in find_sensitive_spans(value) if item.kind is SensitiveClass.IBAN]
    assert value[match.start : match.end] == "GB82WEST12345698765432"


def test_field_names_reveal_secrets() -> None:
    assert find_sensitive_field("password", "hunter2") == {SensitiveClass.PASSWORD}
    assert find_sensitive_field("newPassword", "x") == {SensitiveClass.PASSWORD}
    assert find_sensitive_field("X-Api-Key", "k3y-abcdef123") == {SensitiveClass.API_KEY}
    assert find_sensitive_field("client_secret", "s3cr3t-value") == {SensitiveClass.API_KEY}
    assert find_sensitive_field("api_key", "short") == set()
    assert find_sensitive_field("password", "") == set()
    assert find_sensitive_field("comment", "hunter2") == set()


def test_json_document_scan_with_pointers() -> None:
    document = {
        "user": {"email": "a.b@example.com", "password": "pw-123456", "tags": ["ok", "10.0.0.1"]},
        "a/b": "4111-1111-1111-1111",
    }
    found = {(match.path, match.kind) for match in scan_json(document)}
    assert ("/user/email", SensitiveClass.EMAIL) in found
    assert ("/user/password", SensitiveClass.PASSWORD) in found
    assert ("/user/tags/1", SensitiveClass.IP_ADDRESS) in found
    assert ("/a~1b", SensitiveClass.CREDIT_CARD) in found
    assert find_sensitive_json(document) == {
        SensitiveClass.EMAIL,
        SensitiveClass.PASSWORD,
        SensitiveClass.IP_ADDRESS,
        SensitiveClass.CREDIT_CARD,
    }


def test_json_numbers_scanned() -> None:
    assert find_sensitive_json({"card": 4111111111111111}) == {SensitiveClass.CREDIT_CARD}


def test_deep_and_large_documents_bounded() -> None:
    deep: object = "a@example.com"
    for _ in range(500):
        deep = [deep]
    assert find_sensitive_json(deep) == set()  # past MAX_JSON_DEPTH, not a crash
    wide = {str(index): "x" for index in range(50_000)}
    wide["zzz"] = "a@example.com"
    assert isinstance(find_sensitive_json(wide), set)


def test_long_value_scanned_up_to_cap() -> None:
    value = "x" * MAX_SCAN_CHARS + " a@example.com"
    assert find_sensitive(value) == set()
    assert find_sensitive("y" * 1000 + " a@example.com") == {SensitiveClass.EMAIL}
