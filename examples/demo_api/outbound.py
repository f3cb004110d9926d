"""Server-side HTTP requests to client-supplied URLs (webhooks, URL preview).

``fetch_unchecked`` is the vulnerable variant's SSRF: it calls any http or
https URL, follows redirects and hands back the body. ``fetch_checked`` is
the fixed variant's: it resolves the host once, rejects any address that
is not public unless the ``host:port`` is allowlisted, connects to that
very address (so a second DNS answer cannot swap in another one), follows
no redirect.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import urllib.error
import urllib.request
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

FETCH_TIMEOUT_SECONDS = 5.0
"""Connect and read timeout of one outbound request."""

MAX_RESPONSE_BYTES = 64 * 1024
"""Maximum bytes of a response body that are read and returned."""

ALLOWED_SCHEMES = ("http", "https")
"""Schemes either variant calls; urllib's file:, ftp: and data: stay closed
even in the vulnerable variant so the demo cannot read local files."""

USER_AGENT = "demo-api-outbound/1.0"
DEFAULT_PORTS = {"http": 80, "https": 443}


class OutboundError(Exception):
    """An outbound request failed; the message explains why."""


class DestinationRejected(OutboundError):
    """The URL is not one that outbound requests may reach."""


@dataclass(frozen=True)
class FetchResult:
    status: int
    body: bytes


def _split(url: str) -> SplitResult:
    try:
        return urlsplit(url)
    except ValueError as exc:
        raise DestinationRejected(f"invalid URL {url!r}: {exc}") from None


def _scheme_of(url: str) -> str:
    scheme = _split(url).scheme.lower()
    if scheme not in ALLOWED_SCHEMES:
        raise DestinationRejected(
            f"unsupported URL scheme {scheme!r} in {url!r}; use http or https"
        )
    return scheme


def fetch_unchecked(url: str, method: str = "GET", body: bytes | None = None) -> FetchResult:
    """Request ``url`` wherever it points (the planted SSRF)."""
    _scheme_of(url)
    # An empty ProxyHandler ignores proxy variables, so the request goes
    # straight to the host in the URL.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    request = urllib.request.Request(  # noqa: S310 - scheme checked above
        url, data=body, method=method, headers={"User-Agent": USER_AGENT}
    )
    try:
        with opener.open(request, timeout=FETCH_TIMEOUT_SECONDS) as response:
            return FetchResult(response.status, response.read(MAX_RESPONSE_BYTES))
    except urllib.error.HTTPError as exc:
        return FetchResult(exc.code, exc.read(MAX_RESPONSE_BYTES))
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise OutboundError(f"request to {url!r} failed: {exc}") from exc


def fetch_checked(
    url: str, allowlist: frozenset[str], method: str = "GET", body: bytes | None = None
) -> FetchResult:
    """Request ``url`` if it resolves to a public address or is allowlisted."""
    scheme = _scheme_of(url)
    parts = _split(url)
    host = parts.hostname
    if not host:
        raise DestinationRejected(f"URL {url!r} has no host")
    try:
        port = parts.port or DEFAULT_PORTS[scheme]
    except ValueError as exc:
        raise DestinationRejected(f"URL {url!r} has an invalid port") from exc

    address = _vetted_address(host, port, allowlist)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    connection = _pinned_connection(scheme, host, address, port)
    try:
        connection.request(method, target, body=body, headers={"User-Agent": USER_AGENT})
        response = connection.getresponse()
        return FetchResult(response.status, response.read(MAX_RESPONSE_BYTES))
    except (OSError, http.client.HTTPException) as exc:
        raise OutboundError(f"request to {url!r} failed: {exc}") from exc
    finally:
        connection.close()


def _vetted_address(host: str, port: int, allowlist: frozenset[str]) -> str:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise DestinationRejected(f"cannot resolve host {host!r}: {exc}") from exc
    addresses = [str(info[4][0]) for info in infos]
    if f"{host}:{port}" not in allowlist:
        for address in addresses:
            if not _is_public(address):
                raise DestinationRejected(
                    f"host {host!r} resolves to {address}, which is not a public address;"
                    " outbound requests may only reach public addresses"
                )
    return addresses[0]


def _is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global


def _pinned_connection(
    scheme: str, host: str, address: str, port: int
) -> http.client.HTTPConnection:
    try:
        sock = socket.create_connection((address, port), timeout=FETCH_TIMEOUT_SECONDS)
    except OSError as exc:
        raise OutboundError(f"cannot connect to {host!r} at {address}:{port}: {exc}") from exc
    # A connection whose socket is already set sends on it and never
    # resolves the host again.
    if scheme == "http":
        plain = http.client.HTTPConnection(host, port, timeout=FETCH_TIMEOUT_SECONDS)
        plain.sock = sock
        return plain
    # NOTE: the tests reach only a plain-http listener on loopback, so this
    # https branch has not been run against a server.
    context = ssl.create_default_context()
    secure = http.client.HTTPSConnection(host, port, timeout=FETCH_TIMEOUT_SECONDS, context=context)
    try:
        secure.sock = context.wrap_socket(sock, server_hostname=host)
    except (OSError, ssl.SSLError) as exc:
        sock.close()
        raise OutboundError(f"TLS handshake with {host!r} failed: {exc}") from exc
    return secure
