"""Sensitive data classes found in request and response values.

Each class has an RE2 pattern that finds candidates. Where the format has a
check, a validator rejects look-alikes such as order ids: Luhn for card
numbers, mod 97 for IBANs, the check letter of Spanish DNIs, the JSON header
of JWTs. One RE2 set runs first, so a value with no candidate costs a
single linear pass. Field names add two classes that values alone cannot
show: passwords and API keys sent under names such as ``password`` or
``api_key``.

Discovery records which classes an endpoint carries, and runtime protection
uses the spans to detect and redact leaks.
"""

from __future__ import annotations

import base64
import binascii
import enum
import ipaddress
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import re2


class SensitiveClass(enum.Enum):
    # The values are class names, not secrets.
    EMAIL = "email"
    PHONE = "phone"
    CREDIT_CARD = "credit-card"
    IBAN = "iban"
    US_SSN = "us-ssn"
    UK_NINO = "uk-nino"
    ES_DNI = "es-dni"
    JWT = "jwt"
    AWS_ACCESS_KEY = "aws-access-key"
    GCP_API_KEY = "gcp-api-key"
    GITHUB_TOKEN = "github-token"  # noqa: S105
    SLACK_TOKEN = "slack-token"  # noqa: S105
    STRIPE_KEY = "stripe-key"
    AZURE_STORAGE_KEY = "azure-storage-key"
    SENDGRID_KEY = "sendgrid-key"
    PRIVATE_KEY = "private-key"
    API_KEY = "api-key"
    IP_ADDRESS = "ip-address"
    PASSWORD = "password"  # noqa: S105


@dataclass(frozen=True, slots=True)
class SensitiveMatch:
    """One finding: its class, where it sits in a JSON document, and its span in the value."""

    kind: SensitiveClass
    start: int
    end: int
    path: str = ""  # JSON pointer of the value, empty for a bare string


MIN_CANDIDATE_CHARS = 6
"""Shorter values cannot hold any class (the shortest, an IPv4 address, has 7)."""

MAX_SCAN_CHARS = 64 * 1024
"""Characters of one value that are scanned; the rest is ignored to bound the cost."""

MAX_JSON_VALUES = 10_000
"""Strings and keys visited in one JSON document before the scan stops."""

MAX_JSON_DEPTH = 64
"""Nesting levels of a JSON document that are scanned."""

NAME_CACHE_SIZE = 1024
"""Field names whose normalized form is remembered."""

MIN_SECRET_CHARS = 8
"""A value under a secret-looking field name needs this many characters to count."""


# --- validators -------------------------------------------------------------


def _digits(text: str) -> str:
    return "".join(char for char in text if char.isdigit())


def luhn_valid(number: str) -> bool:
    """Check the Luhn digit of a string of decimal digits."""
    total = 0
    for index, char in enumerate(reversed(number)):
        digit = ord(char) - 48
        if index % 2:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total % 10 == 0


_CARD_PREFIXES = (
    "4",
    "34",
    "37",
    "51",
    "52",
    "53",
    "54",
    "55",
    "6011",
    "65",
    "35",
    "36",
    "38",
    "300",
    "301",
    "302",
    "303",
    "304",
    "305",
    "62",
)


def _valid_card(text: str) -> bool:
    number = _digits(text)
    if not 13 <= len(number) <= 19 or not luhn_valid(number):
        return False
    if number.startswith(_CARD_PREFIXES):
        return True
    # Mastercard's 2-series range and Discover's 644-649.
    return 2221 <= int(number[:4]) <= 2720 or 644 <= int(number[:3]) <= 649


IBAN_LENGTHS = {
    "AD": 24,
    "AE": 23,
    "AT": 20,
    "BE": 16,
    "BG": 22,
    "BR": 29,
    "CH": 21,
    "CY": 28,
    "CZ": 24,
    "DE": 22,
    "DK": 18,
    "EE": 20,
    "ES": 24,
    "FI": 18,
    "FR": 27,
    "GB": 22,
    "GR": 27,
    "HR": 21,
    "HU": 28,
    "IE": 22,
    "IL": 23,
    "IS": 26,
    "IT": 27,
    "LI": 21,
    "LT": 20,
    "LU": 20,
    "LV": 21,
    "MC": 27,
    "MT": 31,
    "NL": 18,
    "NO": 15,
    "PL": 28,
    "PT": 25,
    "QA": 29,
    "RO": 24,
    "SA": 24,
    "SE": 24,
    "SI": 19,
    "SK": 24,
    "SM": 27,
    "TR": 26,
}
"""IBAN length per country (ISO 13616 registry); other countries accept 15 to 34 characters."""


def iban_valid(text: str) -> bool:
    """Check an IBAN (spaces allowed) by its length and its ISO 7064 mod 97-10 checksum."""
    compact = text.replace(" ", "").upper()
    expected = IBAN_LENGTHS.get(compact[:2])
    if expected is not None and len(compact) != expected:
        return False
    if not 15 <= len(compact) <= 34 or not compact.isalnum() or not compact.isascii():
        return False
    rearranged = compact[4:] + compact[:4]
    numeric = "".join(str(int(char, 36)) for char in rearranged)
    return int(numeric) % 97 == 1


def _trim_iban(text: str) -> tuple[int, bool]:
    """Return the length of the valid IBAN that starts ``text``, and whether there is one."""
    expected = IBAN_LENGTHS.get(text[:2])
    if expected is None:
        return len(text), iban_valid(text)
    taken = 0
    for index, char in enumerate(text):
        if char != " ":
            taken += 1
        if taken == expected:
            return index + 1, iban_valid(text[: index + 1])
    return len(text), False


def _valid_ssn(text: str) -> bool:
    area, group, serial = text.split("-")
    return area not in ("000", "666") and area[0] != "9" and group != "00" and serial != "0000"


_NINO_INVALID_PREFIXES = frozenset({"BG", "GB", "NK", "KN", "TN", "NT", "ZZ"})


def _valid_nino(text: str) -> bool:
    return text[:2].upper() not in _NINO_INVALID_PREFIXES


_DNI_LETTERS = "TRWAGMYFPDXBNJZSQVHLCKE"


def _valid_dni(text: str) -> bool:
    compact = text.replace("-", "")
    number = compact[:-1]
    if number[0] in "XYZ":  # NIE numbers of foreign residents map their letter to a digit
        number = str("XYZ".index(number[0])) + number[1:]
    return _DNI_LETTERS[int(number) % 23] == compact[-1]


def _valid_jwt(text: str) -> bool:
    header = text.partition(".")[0]
    try:
        decoded = base64.urlsafe_b64decode(header + "=" * (-len(header) % 4))
        parsed = json.loads(decoded)
    except (binascii.Error, ValueError):
        return False
    return isinstance(parsed, dict) and "alg" in parsed


def _valid_ipv4(text: str) -> bool:
    try:
        ipaddress.IPv4Address(text)
    except ValueError:
        return False
    return True


def _valid_ipv6(text: str) -> bool:
    if sum(1 for group in text.split(":") if group) < 2:
        return False
    try:
        ipaddress.IPv6Address(text)
    except ValueError:
        return False
    return True


def _valid_phone(text: str) -> bool:
    return 8 <= len(_digits(text)) <= 15


# --- patterns ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Detector:
    kind: SensitiveClass
    pattern: str
    validate: Callable[[str], bool] | None = None


_DETECTORS = (
    _Detector(
        SensitiveClass.EMAIL,
        r"[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})*\.[A-Za-z]{2,24}\b",
    ),
    _Detector(SensitiveClass.PHONE, r"\+[1-9][0-9 ().-]{6,20}[0-9]\b", _valid_phone),
    _Detector(SensitiveClass.PHONE, r"(?:\(\d{3}\) ?|\b\d{3}[-.])\d{3}[-.]\d{4}\b"),
    # IBAN before card numbers: card candidates inside an IBAN are skipped.
    _Detector(SensitiveClass.IBAN, r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}\b"),
    _Detector(SensitiveClass.CREDIT_CARD, r"\b\d(?:[ -]?\d){12,18}\b", _valid_card),
    _Detector(SensitiveClass.US_SSN, r"\b\d{3}-\d{2}-\d{4}\b", _valid_ssn),
    _Detector(
        SensitiveClass.UK_NINO,
        r"\b[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z] ?\d{2} ?\d{2} ?\d{2} ?[A-D]\b",
        _valid_nino,
    ),
    _Detector(SensitiveClass.ES_DNI, r"\b[0-9XYZ]\d{7}-?[A-Z]\b", _valid_dni),
    _Detector(
        SensitiveClass.JWT,
        r"\beyJ[A-Za-z0-9_-]{4,}\.eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*",
        _valid_jwt,
    ),
    _Detector(SensitiveClass.AWS_ACCESS_KEY, r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA)[A-Z0-9]{16}\b"),
    _Detector(SensitiveClass.GCP_API_KEY, r"\bAIza[0-9A-Za-z_-]{35}"),
    _Detector(
        SensitiveClass.GITHUB_TOKEN,
        r"\b(?:gh[pousr]_[A-Za-z0-9]{36}|github_pat_[A-Za-z0-9_]{60,})\b",
    ),
    _Detector(SensitiveClass.SLACK_TOKEN, r"\bxox[abposr]-[A-Za-z0-9-]{10,}"),
    _Detector(SensitiveClass.STRIPE_KEY, r"\b(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,}"),
    _Detector(SensitiveClass.AZURE_STORAGE_KEY, r"AccountKey=[A-Za-z0-9+/]{86}=="),
    _Detector(SensitiveClass.SENDGRID_KEY, r"\bSG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}\b"),
    _Detector(
        SensitiveClass.PRIVATE_KEY,
        r"-----BEGIN (?:RSA |EC |DSA |OPENSSH |ENCRYPTED )?PRIVATE KEY-----",
    ),
    _Detector(SensitiveClass.IP_ADDRESS, r"\b(?:\d{1,3}\.){3}\d{1,3}\b", _valid_ipv4),
    _Detector(
        SensitiveClass.IP_ADDRESS,
        r"(?:\b[0-9A-Fa-f]{1,4})?(?::[0-9A-Fa-f]{0,4}){2,7}(?:\d{1,3}(?:\.\d{1,3}){3})?",
        _valid_ipv6,
    ),
)


def _compile() -> tuple[Any, list[Any]]:
    search_set = re2.Set.SearchSet(re2.Options())
    for detector in _DETECTORS:
        search_set.Add(detector.pattern)
    search_set.Compile()
    return search_set, [re2.compile(detector.pattern) for detector in _DETECTORS]


_SEARCH_SET, _PATTERNS = _compile()


def find_sensitive_spans(value: str) -> list[SensitiveMatch]:
    """Find every validated sensitive value in ``value``, in pattern order.

    Digit runs inside an IBAN-shaped string are not reported as card numbers
    even when their Luhn digit happens to be valid: the account number is
    what they are.
    """
    if len(value) < MIN_CANDIDATE_CHARS:
        return []
    text = value[:MAX_SCAN_CHARS]
    matches: list[SensitiveMatch] = []
    account_spans: list[tuple[int, int]] = []
    for index in sorted(_SEARCH_SET.Match(text) or ()):
        detector = _DETECTORS[index]
        for found in _PATTERNS[index].finditer(text):
            start, end = found.start(), found.end()
            candidate = text[start:end]
            if detector.kind is SensitiveClass.IBAN:
                account_spans.append((start, end))
                length, valid = _trim_iban(candidate)
                end = start + length
            elif detector.kind is SensitiveClass.CREDIT_CARD and any(
                low <= start < high for low, high in account_spans
            ):
                continue
            else:
                valid = detector.validate is None or detector.validate(candidate)
            if valid:
                matches.append(SensitiveMatch(detector.kind, start, end))
    return matches


def find_sensitive(value: str) -> set[SensitiveClass]:
    """Return the sensitive data classes present in one string value."""
    return {match.kind for match in find_sensitive_spans(value)}


# --- field names --------------------------------------------------------------

_PASSWORD_NAMES = frozenset(
    {
        "password",
        "passwd",
        "pwd",
        "pass",
        "passphrase",
        "newpassword",
        "oldpassword",
        "currentpassword",
        "confirmpassword",
        "pin",
    }
)
_SECRET_NAME_PARTS = (
    "apikey",
    "accesskey",
    "secretkey",
    "clientsecret",
    "secret",
    "privatekey",
    "accesstoken",
    "refreshtoken",
    "authtoken",
    "token",
)


@lru_cache(maxsize=NAME_CACHE_SIZE)
def _normalize_name(name: str) -> str:
    return "".join(char for char in name.lower() if char.isalnum())


def classify_field_name(name: str, value: str) -> set[SensitiveClass]:
    """Return the classes a field name reveals for a non-empty value: passwords and API keys."""
    if not value:
        return set()
    key = _normalize_name(name)
    if key in _PASSWORD_NAMES or key.endswith("password"):
        return {SensitiveClass.PASSWORD}
    if len(value) >= MIN_SECRET_CHARS and any(part in key for part in _SECRET_NAME_PARTS):
        return {SensitiveClass.API_KEY}
    return set()


def find_sensitive_field(name: str, value: str) -> set[SensitiveClass]:
    """Return the classes of a named value: a header, a form field or a JSON member."""
    return classify_field_name(name, value) | find_sensitive(value)


# --- JSON documents ---------------------------------------------------------


def _pointer_token(key: str | int) -> str:
    return str(key).replace("~", "~0").replace("/", "~1")


def _walk_strings(document: Any) -> Iterator[tuple[str, str, str]]:
    """Yield (JSON pointer, member name, text) for every scalar, bounded in count and depth."""
    stack: list[tuple[str, str, Any, int]] = [("", "", document, 0)]
    visited = 0
    while stack and visited < MAX_JSON_VALUES:
        pointer, name, node, depth = stack.pop()
        visited += 1
        if isinstance(node, dict):
            if depth < MAX_JSON_DEPTH:
                for key, child in node.items():
                    stack.append((f"{pointer}/{_pointer_token(key)}", str(key), child, depth + 1))
        elif isinstance(node, list):
            if depth < MAX_JSON_DEPTH:
                for index, child in enumerate(node):
                    stack.append((f"{pointer}/{index}", name, child, depth + 1))
        elif isinstance(node, str):
            yield pointer, name, node
        elif isinstance(node, int | float) and not isinstance(node, bool):
            yield pointer, name, str(node)


def scan_json(document: Any) -> list[SensitiveMatch]:
    """Find sensitive values in a parsed JSON document, each with its JSON pointer."""
    matches: list[SensitiveMatch] = []
    for pointer, name, value in _walk_strings(document):
        for kind in classify_field_name(name, value):
            matches.append(SensitiveMatch(kind, 0, len(value), pointer))
        for match in find_sensitive_spans(value):
            matches.append(SensitiveMatch(match.kind, match.start, match.end, pointer))
    return matches


def find_sensitive_json(document: Any) -> set[SensitiveClass]:
    """Return the sensitive data classes present anywhere in a parsed JSON document."""
    return {match.kind for match in scan_json(document)}
