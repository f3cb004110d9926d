"""Reading the Cookie field and writing the Set-Cookie field of the token cookie."""

from __future__ import annotations

from stockade.csrf.config import CsrfCookie
from stockade.http.fields import Fields

MAX_COOKIE_PAIRS = 200  # cookie pairs read from one request; the rest are ignored


def request_cookies(fields: Fields) -> list[tuple[bytes, bytes]]:
    """Return the (name, value) pairs of every Cookie field, in order, duplicates kept.

    RFC 6265 section 5.4 joins several Cookie fields with "; "; a pair
    without "=" is skipped, as browsers never send one.
    """
    pairs: list[tuple[bytes, bytes]] = []
    for line in fields.get_all(b"cookie"):
        for part in line.split(b";"):
            name, sep, value = part.partition(b"=")
            if not sep:
                continue
            pairs.append((name.strip(), value.strip()))
            if len(pairs) >= MAX_COOKIE_PAIRS:
                return pairs
    return pairs


def cookie_values(pairs: list[tuple[bytes, bytes]], name: bytes) -> list[bytes]:
    return [value for pair_name, value in pairs if pair_name == name]


def set_cookie(settings: CsrfCookie, value: str, max_age_seconds: int) -> tuple[bytes, bytes]:
    """Build the Set-Cookie field that stores ``value`` in the token cookie."""
    parts = [f"{settings.name}={value}", f"Path={settings.path}", f"Max-Age={max_age_seconds}"]
    if settings.domain is not None:
        parts.append(f"Domain={settings.domain}")
    if settings.secure:
        parts.append("Secure")
    if settings.http_only:
        parts.append("HttpOnly")
    parts.append(f"SameSite={settings.same_site}")
    return b"Set-Cookie", "; ".join(parts).encode("ascii")
