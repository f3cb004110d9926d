"""SSRF: URL-valued parameters that point inward, OWASP API7:2023. Layer ``ssrf``.

Query parameters, form fields and JSON string members are checked when
the value has a scheme (``scheme://``) or the member's name is one of
``parameter_names``. A value is flagged when its host is:

- a loopback, link-local, private, shared (100.64.0.0/10), unspecified or
  reserved address, or a cloud metadata address;
- such an address in disguise: decimal (``2130706433``), octal
  (``0177.0.0.1``), hexadecimal (``0x7f.1``), shortened (``127.1``),
  IPv4-mapped or IPv4-compatible IPv6 (``[::ffff:127.0.0.1]``), or
  percent-encoded;
- a name that always means this host (``localhost`` and ``*.localhost``)
  or a cloud metadata name (``metadata.google.internal``);

or when the scheme reaches other protocols (``file``, ``gopher``, ...).

Names are never resolved: the gateway does not query DNS for a request,
so a public name that resolves to, or redirects to, an inside address is
not caught here. The backend has to check the address it connects to.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl, unquote

from stockade.events.model import Severity
from stockade.gateway.exchange import Exchange
from stockade.gateway.pipeline import CONTINUE, Phase, Verdict, reject
from stockade.gateway.routing import RouteContext
from stockade.protection.config import SsrfProtection
from stockade.protection.inputs import (
    MISSING,
    is_json_type,
    query_pairs,
    request_json,
    request_media_type,
)

LAYER = "ssrf"
FORM_TYPE = "application/x-www-form-urlencoded"
MAX_VALUES = 2000
"""Values of one request checked; the rest are skipped."""
MAX_DEPTH = 32
"""Nesting of a JSON body followed."""
MAX_URL_CHARS = 8192
"""Longer values are not checked as URLs."""

METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(text)
    for text in (
        "169.254.169.254",  # AWS, GCP, Azure, OpenStack, DigitalOcean
        "169.254.170.2",  # AWS ECS task metadata
        "100.100.100.200",  # Alibaba Cloud
        "192.0.0.192",  # Oracle Cloud (classic)
        "fd00:ec2::254",  # AWS over IPv6
    )
)
METADATA_NAMES = frozenset(
    {
        "metadata.google.internal",
        "metadata",
        "instance-data",
        "instance-data.ec2.internal",
        "metadata.azure.com",
        "metadata.packet.net",
    }
)
LOCAL_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"})
SHARED_ADDRESS_SPACE = ipaddress.ip_network("100.64.0.0/10")
DANGEROUS_SCHEMES = frozenset(
    {
        "file",
        "gopher",
        "dict",
        "ldap",
        "ldaps",
        "tftp",
        "jar",
        "netdoc",
        "phar",
        "expect",
        "sftp",
        "smb",
    }
)


def parse_ipv4_loose(text: str) -> ipaddress.IPv4Address | None:
    """Parse an IPv4 address the way inet_aton does: 1 to 4 parts, decimal, octal or hex."""
    parts = text.split(".")
    if not 1 <= len(parts) <= 4:
        return None
    numbers: list[int] = []
    for part in parts:
        if not part:
            return None
        try:
            if part[:2].lower() == "0x":
                number = int(part[2:] or "0", 16)
            elif len(part) > 1 and part[0] == "0":
                number = int(part[1:], 8)
            else:
                number = int(part, 10)
        except ValueError:
            return None
        numbers.append(number)
    value = 0
    for number in numbers[:-1]:
        if number > 255:
            return None
        value = value * 256 + number
    last_bytes = 5 - len(numbers)
    if numbers[-1] >= 256**last_bytes:
        return None
    value = value * 256**last_bytes + numbers[-1]
    return ipaddress.IPv4Address(value)


def _address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    if ":" in host:
        try:
            address = ipaddress.IPv6Address(host.partition("%")[0])
        except ValueError:
            return None
        if address.ipv4_mapped is not None:
            return address.ipv4_mapped
        if address.sixtofour is not None:
            return address.sixtofour
        packed = int(address)
        if 1 < packed < 2**32:  # IPv4-compatible ::a.b.c.d
            return ipaddress.IPv4Address(packed)
        return address
    return parse_ipv4_loose(host)


def internal_reason(host: str) -> str | None:
    """Return why a URL host points inward (loopback, private, metadata, ...), or None."""
    name = unquote(host).strip().lower().rstrip(".")
    if name.startswith("[") and name.endswith("]"):
        name = name[1:-1]
    if not name:
        return None
    if name in LOCAL_NAMES or name.endswith(".localhost"):
        return "loopback-name"
    if name in METADATA_NAMES:
        return "metadata-name"
    address = _address(name)
    if address is None:
        return None
    if address in METADATA_ADDRESSES:
        return "metadata-address"
    if address.is_loopback:
        return "loopback"
    if address.is_link_local:
        return "link-local"
    if address.is_unspecified:
        return "unspecified"
    if isinstance(address, ipaddress.IPv4Address) and address in SHARED_ADDRESS_SPACE:
        return "shared-address"
    if address.is_private:
        return "private"
    if address.is_reserved or address.is_multicast:
        return "reserved"
    return None


def split_url(value: str, named: bool) -> tuple[str, str, int | None] | None:
    """Return (scheme, host, port) of a URL value, or None when it is not one.

    A value without a scheme is read as ``host[:port][/path]`` only when
    ``named`` is true, meaning its parameter name is URL-like. Backslashes
    count as slashes, as browsers and many HTTP clients treat them.
    """
    text = value.strip()
    scheme, sep, rest = text.partition("://")
    if not sep:
        if text.startswith("//"):
            scheme, rest = "", text[2:]
        elif named:
            scheme, rest = "", text
        else:
            return None
    elif not scheme or not all(char.isalnum() or char in "+.-" for char in scheme):
        return None
    rest = rest.replace("\\", "/")
    authority = rest
    for stop in "/?#":
        authority = authority.partition(stop)[0]
    host_port = authority.rpartition("@")[2]
    port: int | None = None
    if host_port.startswith("["):
        host, _, tail = host_port.partition("]")
        host += "]"
        tail = tail.removeprefix(":")
    else:
        host, _, tail = host_port.partition(":")
    if tail.isdigit() and len(tail) <= 5:
        port = int(tail)
    return scheme.lower(), host, port


def _json_strings(document: Any) -> Iterator[tuple[str, str]]:
    stack: list[tuple[str, Any, int]] = [("", document, 0)]
    while stack:
        name, node, depth = stack.pop()
        if isinstance(node, str):
            yield name, node
        elif depth < MAX_DEPTH and isinstance(node, dict):
            stack.extend((str(key), value, depth + 1) for key, value in node.items())
        elif depth < MAX_DEPTH and isinstance(node, list):
            stack.extend((name, value, depth + 1) for value in node)


class SsrfStage:
    name = "protection.ssrf"
    layer = LAYER
    phases = frozenset({Phase.REQUEST_HEADERS, Phase.REQUEST_BODY})
    synchronous = True  # check never awaits

    def __init__(self, settings: SsrfProtection) -> None:
        self.names = frozenset(name.lower() for name in settings.parameter_names)
        self.allowed = frozenset(host.lower() for host in settings.allow_hosts)

    def wants_request_body(self, exchange: Exchange) -> bool:
        kind = request_media_type(exchange)
        return is_json_type(kind) or kind == FORM_TYPE

    def wants_response_body(self, exchange: Exchange) -> bool:
        return False

    def check(self, exchange: Exchange, phase: Phase) -> Verdict:
        if phase is Phase.REQUEST_HEADERS:
            return self._verdict(exchange, query_pairs(exchange), "query")
        document = request_json(exchange)
        if document is not MISSING:
            return self._verdict(exchange, _json_strings(document), "body")
        if exchange.body and request_media_type(exchange) == FORM_TYPE:
            pairs = parse_qsl(exchange.body.decode("latin-1"), keep_blank_values=True)
            return self._verdict(exchange, pairs, "body")
        return CONTINUE

    def finding(self, name: str, value: str) -> tuple[str, str] | None:
        """Return (reason, host) when a value points inward, else None."""
        if len(value) > MAX_URL_CHARS or len(value) < 1:
            return None
        parts = split_url(value, name.lower() in self.names)
        if parts is None:
            return None
        scheme, host, port = parts
        if scheme in DANGEROUS_SCHEMES:
            return f"scheme-{scheme}", host
        lowered = host.lower()
        if lowered in self.allowed or (port is not None and f"{lowered}:{port}" in self.allowed):
            return None
        reason = internal_reason(host)
        return (reason, host) if reason else None

    def _verdict(self, exchange: Exchange, pairs: Any, place: str) -> Verdict:
        for index, (name, value) in enumerate(pairs):
            if index >= MAX_VALUES:
                break
            found = self.finding(name, value)
            if found is None:
                continue
            reason, host = found
            event = exchange.event(
                LAYER,
                "ssrf",
                f"{place} parameter {name!r} points at an internal destination ({reason})",
                Severity.HIGH,
                evidence={
                    "parameter": name[:100],
                    "place": place,
                    "reason": reason,
                    "host": host[:255],
                },
            )
            return reject(
                400,
                "ssrf",
                "the request names a destination that is not allowed",
                severity=Severity.HIGH,
                events=(event,),
            )
        return CONTINUE


def build_ssrf_stage(context: RouteContext) -> SsrfStage | None:
    policy = context.policy.protection
    if policy is None or policy.ssrf is None:
        return None
    return SsrfStage(policy.ssrf)
