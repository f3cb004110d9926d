"""Shapes of single values: path segments and scalar strings.

A path segment's shape decides whether it is an identifier (a parameter of
the template), a version, or a word. String formats (email, uuid, date-time)
feed the inferred schemas. Everything here is hand-written scanning of short
strings, so no regular expression runs on traffic.
"""

from __future__ import annotations

import enum
import ipaddress
from functools import lru_cache
from importlib import resources

HEX_DIGITS = frozenset("0123456789abcdefABCDEF")
BASE64_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=_-")
TOKEN_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-.~")

MIN_HEX_ID_CHARS = 8
"""Hex strings this long with at least one digit are identifiers (git-style short hashes)."""

MIN_TOKEN_CHARS = 8
"""Mixed letter-and-digit segments this long are opaque tokens rather than words."""

MIN_BASE64_CHARS = 16
"""Base64 strings shorter than this are too often ordinary words."""


class SegmentShape(enum.Enum):
    EMPTY = "empty"
    INTEGER = "integer"
    UUID = "uuid"
    OBJECT_ID = "object-id"
    HEX = "hex"
    DATE = "date"
    DATE_TIME = "date-time"
    EMAIL = "email"
    JWT = "jwt"
    BASE64 = "base64"
    TOKEN = "token"  # noqa: S105 (a shape name, not a secret)
    VERSION = "version"
    WORD = "word"
    OTHER = "other"


IDENTIFIER_SHAPES = frozenset(
    {
        SegmentShape.INTEGER,
        SegmentShape.UUID,
        SegmentShape.OBJECT_ID,
        SegmentShape.HEX,
        SegmentShape.DATE,
        SegmentShape.DATE_TIME,
        SegmentShape.EMAIL,
        SegmentShape.JWT,
        SegmentShape.BASE64,
        SegmentShape.TOKEN,
    }
)
"""Shapes that make a segment a parameter on first sight."""


def is_uuid(text: str) -> bool:
    if len(text) != 36:
        return False
    for index, char in enumerate(text):
        if index in (8, 13, 18, 23):
            if char != "-":
                return False
        elif char not in HEX_DIGITS:
            return False
    return True


def _is_digits(text: str, start: int, end: int) -> bool:
    return end <= len(text) and all("0" <= char <= "9" for char in text[start:end])


def is_date(text: str) -> bool:
    """Check for a calendar date written YYYY-MM-DD."""
    if len(text) != 10 or text[4] != "-" or text[7] != "-":
        return False
    if not (_is_digits(text, 0, 4) and _is_digits(text, 5, 7) and _is_digits(text, 8, 10)):
        return False
    return 1 <= int(text[5:7]) <= 12 and 1 <= int(text[8:10]) <= 31


def is_date_time(text: str) -> bool:
    """Check for an RFC 3339 date-time such as 2024-05-01T12:30:00Z or with an offset."""
    if len(text) < 20 or text[10] not in "Tt" or not is_date(text[:10]):
        return False
    clock = text[11:19]
    if len(clock) != 8 or clock[2] != ":" or clock[5] != ":":
        return False
    if not (_is_digits(clock, 0, 2) and _is_digits(clock, 3, 5) and _is_digits(clock, 6, 8)):
        return False
    rest = text[19:]
    if rest.startswith("."):
        index = 1
        while index < len(rest) and rest[index].isdigit():
            index += 1
        rest = rest[index:]
    if rest in ("Z", "z"):
        return True
    return (
        len(rest) == 6
        and rest[0] in "+-"
        and rest[3] == ":"
        and _is_digits(rest, 1, 3)
        and _is_digits(rest, 4, 6)
    )


def is_email(text: str) -> bool:
    local, at, domain = text.rpartition("@")
    if not at or not local or len(text) > 254 or " " in text:
        return False
    labels = domain.split(".")
    return len(labels) >= 2 and all(labels) and labels[-1].isalpha() and len(labels[-1]) >= 2


def is_jwt(text: str) -> bool:
    parts = text.split(".")
    return (
        len(parts) == 3
        and parts[0].startswith("eyJ")
        and parts[1].startswith("eyJ")
        and all(char in BASE64_CHARS for char in parts[0] + parts[1] + parts[2])
    )


def is_version(text: str) -> bool:
    """Check for an API version segment: v1, v2.1, v1beta2, V3."""
    if len(text) < 2 or text[0] not in "vV" or not text[1].isdigit():
        return False
    index = 1
    while index < len(text) and (text[index].isdigit() or text[index] == "."):
        index += 1
    suffix = text[index:]
    letters = suffix.rstrip("0123456789")
    return letters in ("", "alpha", "beta", "rc", "preview")


def _is_hex_id(text: str) -> bool:
    if len(text) < MIN_HEX_ID_CHARS or not all(char in HEX_DIGITS for char in text):
        return False
    has_digit = any(char.isdigit() for char in text)
    one_case = text == text.lower() or text == text.upper()
    return has_digit and one_case


def _is_mixed_token(text: str) -> bool:
    """Check for an opaque id mixing upper case, lower case and digits (ord_aB3xY9...)."""
    if len(text) < MIN_TOKEN_CHARS or not all(char in TOKEN_CHARS for char in text):
        return False
    has_upper = any(char.isupper() for char in text)
    has_lower = any(char.islower() for char in text)
    return has_upper and has_lower and any(char.isdigit() for char in text)


def _is_base64(text: str) -> bool:
    if len(text) < MIN_BASE64_CHARS or not all(char in BASE64_CHARS for char in text):
        return False
    has_upper = any(char.isupper() for char in text)
    has_lower = any(char.islower() for char in text)
    has_digit = any(char.isdigit() for char in text)
    return (has_upper and has_lower and has_digit) or text.endswith("=")


def word_parts(text: str) -> list[str] | None:
    """Split a word-like segment (kebab, snake or camel case) into lower-case parts.

    Return None when the segment contains anything but letters and separators.
    A part may end in one digit (oauth2, s3) and still be a word when a
    separator or the end follows; a letter after a digit makes it a token.
    """
    parts: list[str] = []
    current = ""
    for char in text:
        if char in "-_":
            if current:
                parts.append(current)
            current = ""
        elif char.isascii() and char.isalpha():
            if current[-1:].isdigit():
                return None  # a digit inside a part (w0t, z4Ni): a token, not a word
            if char.isupper() and current and current[-1].islower():
                parts.append(current)
                current = ""
            current += char.lower()
        elif char.isdigit() and current and not current[-1].isdigit():
            current += char
        else:
            return None
    if current:
        parts.append(current)
    return parts or None


SHAPE_CACHE_SIZE = 4096
"""Segments whose shape is remembered; paths repeat, so most look-ups hit."""


@lru_cache(maxsize=SHAPE_CACHE_SIZE)
def segment_shape(segment: str) -> SegmentShape:
    """Classify one percent-decoded path segment."""
    if not segment:
        return SegmentShape.EMPTY
    if segment.isdigit() and segment.isascii():
        return SegmentShape.INTEGER
    if is_uuid(segment):
        return SegmentShape.UUID
    if is_date(segment):
        return SegmentShape.DATE
    if is_date_time(segment):
        return SegmentShape.DATE_TIME
    if is_version(segment):
        return SegmentShape.VERSION
    if "@" in segment:
        return SegmentShape.EMAIL if is_email(segment) else SegmentShape.OTHER
    if is_jwt(segment):
        return SegmentShape.JWT
    if _is_hex_id(segment):
        return SegmentShape.OBJECT_ID if len(segment) == 24 else SegmentShape.HEX
    if _is_mixed_token(segment):
        return SegmentShape.TOKEN
    if word_parts(segment) is not None:
        return SegmentShape.WORD
    if _is_base64(segment):
        return SegmentShape.BASE64
    if all(char in TOKEN_CHARS for char in segment):
        has_digit = any(char.isdigit() for char in segment)
        has_letter = any(char.isalpha() for char in segment)
        if len(segment) >= MIN_TOKEN_CHARS and has_digit and has_letter:
            return SegmentShape.TOKEN
    return SegmentShape.OTHER


@lru_cache(maxsize=1)
def dictionary() -> frozenset[str]:
    """Return the words that stay literal in paths however many siblings they have."""
    text = resources.files("stockade.protection.discovery").joinpath("words.txt").read_text("utf-8")
    words = set()
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            words.update(line.split())
    return frozenset(words)


_IRREGULAR_PLURALS = {
    "people": "person",
    "children": "child",
    "men": "man",
    "women": "woman",
    "mice": "mouse",
    "geese": "goose",
    "feet": "foot",
    "teeth": "tooth",
}


def singular(word: str) -> str:
    """Return the English singular of a plural noun, by suffix rules and a few irregular nouns."""
    if word in _IRREGULAR_PLURALS:
        return _IRREGULAR_PLURALS[word]
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("sses", "xes", "ches", "shes", "zzes")):
        return word[:-2]
    if word.endswith("ss") or word.endswith("us") or word.endswith("is"):
        return word
    if word.endswith("s") and len(word) > 3:
        return word[:-1]
    return word


@lru_cache(maxsize=SHAPE_CACHE_SIZE)
def is_dictionary_word(segment: str) -> bool:
    """Check that every part of a word-like segment is a known word (plurals allowed)."""
    parts = word_parts(segment)
    if parts is None:
        return False
    words = dictionary()
    return all(
        part in words or singular(part) in words or part.rstrip("0123456789") in words
        for part in parts
    )


def string_format(value: str) -> str | None:
    """Return the JSON Schema format of a string value, or None when it has none we detect."""
    if len(value) > 320 or not value:
        return None
    if is_uuid(value):
        return "uuid"
    if is_date(value):
        return "date"
    if is_date_time(value):
        return "date-time"
    if "@" in value:
        return "email" if is_email(value) else None
    if value.startswith(("http://", "https://")) and " " not in value:
        return "uri"
    if "." in value or ":" in value:
        try:
            address = ipaddress.ip_address(value)
        except ValueError:
            return None
        return "ipv4" if address.version == 4 else "ipv6"
    return None


def scalar_type(text: str) -> str:
    """Return the JSON type of a parameter sent as text: integer, number, boolean or string."""
    if text.isascii() and (text.isdigit() or (text[:1] == "-" and text[1:].isdigit())):
        return "integer"
    if text in ("true", "false"):
        return "boolean"
    try:
        float(text)
    except ValueError:
        return "string"
    if text.lower() in ("nan", "inf", "-inf", "infinity", "-infinity", "+inf"):
        return "string"
    return "number"
