"""Detection of credentials that a browser attaches to requests on its own.

Cookies, HTTP Basic credentials the browser has cached, and TLS client
certificates go with every request to the site, whichever page caused it.
Bearer tokens and API keys sent in request fields do not: a page must add
them, and a cross-origin page cannot without a CORS preflight. A request
authenticated by one of those is exempt, even if it also carries cookies.
"""

from __future__ import annotations

from collections.abc import Collection

from stockade.gateway.exchange import Exchange

HEADER_CREDENTIAL_METHODS = frozenset({"api-key", "jwt", "introspection", "bearer"})
"""Consumer auth methods whose credential a page must add itself."""


def carries_header_credential(exchange: Exchange) -> bool:
    """Return True when the request proves itself with a credential a page must add."""
    consumer = exchange.consumer
    if consumer is not None and consumer.auth_method in HEADER_CREDENTIAL_METHODS:
        return True
    authorization = exchange.request.fields.get(b"authorization")
    if authorization is None:
        return False
    scheme = authorization.strip().partition(b" ")[0].lower()
    return bool(scheme) and scheme != b"basic"


def ambient_credentials(
    exchange: Exchange,
    kinds: Collection[str],
    cookie_names: list[bytes],
    session_cookies: frozenset[bytes],
) -> list[str]:
    """Return the kinds of ambient credential the request carries, among ``kinds``.

    ``cookie_names`` are the names of the request's cookies; the token
    cookie has been left out by the caller, as it proves nothing.
    """
    found: list[str] = []
    if "cookie" in kinds:
        if session_cookies:
            present = any(name in session_cookies for name in cookie_names)
        else:
            present = bool(cookie_names)
        if present:
            found.append("cookie")
    if "basic" in kinds and _basic(exchange):
        found.append("basic")
    if "client_certificate" in kinds and (
        exchange.client.peer_certificate is not None
        or exchange.client.peer_certificate_der is not None
    ):
        found.append("client_certificate")
    return found


def _basic(exchange: Exchange) -> bool:
    consumer = exchange.consumer
    if consumer is not None and consumer.auth_method == "basic":
        return True  # the auth stage may have removed the field already
    authorization = exchange.request.fields.get(b"authorization")
    return authorization is not None and authorization.strip()[:6].lower() == b"basic "
