"""Where an unsafe request comes from: Sec-Fetch-Site, else Origin, else Referer.

Browsers set these fields themselves and pages cannot change them, so for a
browser request they tell the page that caused it. Non-browser clients may
send anything, but they are not the CSRF threat: they hold no victim's
cookies.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from stockade.csrf.origins import MAX_ORIGIN_BYTES, Origin, parse_authority, parse_origin
from stockade.gateway.exchange import Exchange

UNSAFE_METHODS = frozenset({b"POST", b"PUT", b"PATCH", b"DELETE"})
"""Methods that change state; RFC 9110 section 9.2.1 calls the others safe."""

FETCH_SITE_SAME = frozenset({b"same-origin", b"none"})  # none: the user typed or bookmarked it
FETCH_SITE_OTHER = frozenset({b"same-site", b"cross-site"})
EVIDENCE_CHARS = 256  # characters of a field value kept in an event


@dataclass(frozen=True, slots=True)
class SourceCheck:
    passed: bool
    reason: str  # event kind when not passed, or "csrf-no-source" for lax passes
    source: str  # the field that decided: sec-fetch-site, origin, referer, or none
    evidence: dict[str, str] = field(default_factory=dict)


class OriginRule:
    """The allowed origins of one route, and the check of a request against them."""

    def __init__(self, allowed: frozenset[Origin], allow_same_origin: bool) -> None:
        self.allowed = allowed
        self.allow_same_origin = allow_same_origin

    def allows(self, origin: Origin | None, exchange: Exchange) -> bool:
        if origin is None:
            return False
        if origin in self.allowed:
            return True
        return self.allow_same_origin and _is_own_origin(origin, exchange)

    def check(self, exchange: Exchange) -> SourceCheck:
        fields = exchange.request.fields
        fetch_site = fields.get(b"sec-fetch-site")
        origin_value = fields.get(b"origin")
        if fetch_site is not None:
            site = fetch_site.strip().lower()
            if site in FETCH_SITE_SAME:
                return SourceCheck(True, "", "sec-fetch-site")
            if site in FETCH_SITE_OTHER:
                # A cross-site page passes only when its Origin is one the service allows,
                # as for a CORS request from a partner application.
                origin = parse_origin(origin_value) if origin_value is not None else None
                if self.allows(origin, exchange):
                    return SourceCheck(True, "", "sec-fetch-site")
                evidence = {"sec_fetch_site": _shown(site)}
                if origin_value is not None:
                    evidence["origin"] = _shown(origin_value)
                return SourceCheck(False, "csrf-cross-site", "sec-fetch-site", evidence)
            # An unknown value comes from no browser; the other fields decide.
        if origin_value is not None:
            if self.allows(parse_origin(origin_value), exchange):
                return SourceCheck(True, "", "origin")
            return SourceCheck(
                False, "csrf-origin-not-allowed", "origin", {"origin": _shown(origin_value)}
            )
        referer = fields.get(b"referer")
        if referer is not None:
            if self.allows(parse_origin(referer), exchange):
                return SourceCheck(True, "", "referer")
            # Only the origin part is kept: a page's path and query may be personal data.
            parsed = parse_origin(referer)
            shown = str(parsed) if parsed is not None else "(invalid)"
            return SourceCheck(False, "csrf-referer-not-allowed", "referer", {"referer": shown})
        return SourceCheck(False, "csrf-no-source", "none")


def _is_own_origin(origin: Origin, exchange: Exchange) -> bool:
    """Return True when ``origin`` is the origin the request was sent to.

    Over TLS only an https origin matches. Over plain HTTP both schemes
    match, because a TLS-terminating proxy in front of the gateway hands on
    https requests as http.
    """
    authority = exchange.request.authority
    if not authority or len(authority) > MAX_ORIGIN_BYTES or not authority.isascii():
        return False
    text = authority.decode("ascii")
    schemes = ("https",) if exchange.client.tls else ("http", "https")
    return any(origin == parse_authority(scheme, text) for scheme in schemes)


def _shown(value: bytes) -> str:
    return value[:EVIDENCE_CHARS].decode("latin-1")
