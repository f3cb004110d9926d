"""What the gateway changes in a message it forwards (RFC 9110 section 7.6).

Pure functions over field sections: hop-by-hop fields are removed, the
X-Forwarded-* and Forwarded fields are set, and the framing fields are left
for the sender to write anew.
"""

from __future__ import annotations

import functools
import itertools
import os
from collections.abc import Iterable
from typing import Final

from stockade.http.fields import Fields

try:
    from stockade.http import _heads
except ImportError:  # no compiled build: _kept_items filters in Python
    _heads = None  # type: ignore[assignment]

HOP_BY_HOP: Final = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-connection",
        b"te",
        b"trailer",
        b"transfer-encoding",
        b"upgrade",
        b"proxy-authenticate",
        b"proxy-authorization",
    }
)
"""Fields that describe one connection and never travel past it."""

FRAMING: Final = frozenset({b"content-length", b"transfer-encoding"})
"""Written anew by the gateway on every forwarded message."""

FORWARDING: Final = frozenset(
    {b"x-forwarded-for", b"x-forwarded-proto", b"x-forwarded-host", b"forwarded", b"x-real-ip"}
)
"""Client-supplied copies are dropped: a client must not choose what the backend believes."""

# The gateway sends 100 Continue itself, so Expect is not forwarded.
_REQUEST_DROP: Final = HOP_BY_HOP | FRAMING | FORWARDING | {b"expect"}
_RESPONSE_DROP: Final = HOP_BY_HOP | FRAMING

FORWARDING_CACHE_SIZE = 1024
"""Client, scheme and host combinations whose forwarding fields are cached."""

MAX_REQUEST_ID_BYTES: Final = 128
"""Longer incoming ids are replaced rather than passed on."""

_ID_CHARACTERS: Final = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:"
"""Bytes allowed in an incoming request id and in an unquoted Forwarded value."""


def connection_nominated(fields: Fields) -> set[bytes]:
    """Return the lower-case field names listed in Connection (removed before forwarding)."""
    return _listed_names(fields.get_all(b"connection"))


_COMMON_CONNECTION: Final = {
    b"keep-alive": frozenset({b"keep-alive"}),
    b"close": frozenset({b"close"}),
}
"""Names listed by the Connection values most peers send, found without splitting."""


def _listed_names(values: Iterable[bytes]) -> set[bytes]:
    names: set[bytes] = set()
    for value in values:
        for item in value.split(b","):
            item = item.strip().lower()
            if item:
                names.add(item)
    return names


class RequestIds:
    """Unique request ids: a random per-process prefix and a counter.

    Reading the system's random source for every request costs a system
    call; a counter behind a 64-bit random prefix is unique just the same.
    """

    def __init__(self) -> None:
        self._prefix = os.urandom(8).hex()
        self._counter = itertools.count(1)

    def new(self) -> str:
        return f"{self._prefix}{next(self._counter):016x}"


_REQUEST_IDS: Final = RequestIds()


def request_id_from(fields: Fields, header: bytes) -> str:
    """Reuse a well-formed incoming request id, or make a new unique one."""
    incoming = fields.get(header)
    if (
        incoming
        and len(incoming) <= MAX_REQUEST_ID_BYTES
        and not incoming.translate(None, _ID_CHARACTERS)
    ):
        return incoming.decode("ascii")
    return _REQUEST_IDS.new()


def upstream_request_fields(
    fields: Fields,
    *,
    client_address: str,
    scheme: str,
    host: bytes,
    request_id: str,
    request_id_header: bytes,
    upstream_host: bytes | None,
    extra_drop: frozenset[bytes] = frozenset(),
) -> Fields:
    """Build the field section sent upstream, without framing fields.

    ``upstream_host`` replaces Host when the service does not preserve it.
    ``extra_drop`` names more fields to strip, such as identity headers the
    gateway sets itself.
    """
    drop = _drop_names(_REQUEST_DROP, request_id_header, extra_drop, upstream_host is not None)
    items = _kept_items(fields, drop)
    if upstream_host is not None:
        items.append((b"Host", upstream_host))
    items += _forwarding_items(client_address, scheme, host)
    items.append((request_id_header, request_id.encode("ascii")))
    return Fields(items)


@functools.lru_cache(maxsize=FORWARDING_CACHE_SIZE)
def _forwarding_items(
    client_address: str, scheme: str, host: bytes
) -> tuple[tuple[bytes, bytes], ...]:
    """Return the X-Forwarded-* and Forwarded fields for one client, scheme and host."""
    client = client_address.encode("ascii")
    proto = scheme.encode("ascii")
    node = b'"[' + client + b']"' if b":" in client else client
    return (
        (b"X-Forwarded-For", client),
        (b"X-Forwarded-Proto", proto),
        (b"X-Forwarded-Host", host),
        (b"Forwarded", b"for=" + node + b";proto=" + proto + b";host=" + _quote(host)),
    )


def client_response_fields(fields: Fields, request_id: str, request_id_header: bytes) -> Fields:
    """Build the field section sent to the client, without framing fields."""
    return Fields(client_response_items(fields, request_id, request_id_header))


def client_response_items(
    fields: Fields, request_id: str, request_id_header: bytes
) -> list[tuple[bytes, bytes]]:
    """Return the fields of ``client_response_fields`` as a list of (name, value) pairs."""
    drop = _drop_names(_RESPONSE_DROP, request_id_header, frozenset(), False)
    items = _kept_items(fields, drop)
    items.append((request_id_header, request_id.encode("ascii")))
    return items


@functools.lru_cache(maxsize=64)
def _drop_names(
    base: frozenset[bytes], request_id_header: bytes, extra: frozenset[bytes], host: bool
) -> frozenset[bytes]:
    """Return the names never forwarded in one direction; a few combinations per config.

    ``host`` adds Host, for a request whose Host the gateway replaces.
    """
    names = base | extra | {request_id_header.lower()}
    return names | {b"host"} if host else names


def _kept_items(fields: Fields, drop: frozenset[bytes]) -> list[tuple[bytes, bytes]]:
    """Return the items of ``fields`` whose names are neither in ``drop`` nor in Connection."""
    names = fields.lowered_names()
    items = fields.items_view()
    if b"connection" in names:
        if names.count(b"connection") == 1:
            values = [items[names.index(b"connection")][1]]
        else:
            values = [
                value
                for (_, value), name in zip(items, names, strict=True)
                if name == b"connection"
            ]
        listed = _COMMON_CONNECTION.get(values[0].lower()) if len(values) == 1 else None
        nominated = (_listed_names(values) if listed is None else listed) - drop
        if nominated:
            drop = drop | nominated
    if _heads is not None:
        forwarded = _heads.kept_items(items, names, drop)
        if forwarded is not None:
            return forwarded
    return [item for item, name in zip(items, names, strict=True) if name not in drop]


def _quote(value: bytes) -> bytes:
    if value and not value.translate(None, _ID_CHARACTERS):
        return value
    return b'"' + value.replace(b"\\", b"\\\\").replace(b'"', b'\\"') + b'"'
