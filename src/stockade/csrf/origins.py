"""Origins as RFC 6454 defines them: scheme, host and port, compared as one tuple.

Values come from clients, so parsing is plain string splitting with length
caps and no regular expression. A value that does not parse is no origin at
all, and the check treats it as not allowed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

MAX_ORIGIN_BYTES = 2048  # longer Origin or Referer values are treated as not allowed
DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True, slots=True)
class Origin:
    scheme: str
    host: str  # lower case; IPv6 literals keep their brackets
    port: int

    def __str__(self) -> str:
        if DEFAULT_PORTS.get(self.scheme) == self.port:
            return f"{self.scheme}://{self.host}"
        return f"{self.scheme}://{self.host}:{self.port}"


def parse_origin(value: bytes | str) -> Origin | None:
    """Parse the origin of a URL or of an Origin field; return None for anything else.

    The path, query and fragment of a URL are dropped, so a Referer value
    gives its page's origin. Userinfo is rejected, because browsers never
    send it in these fields.
    """
    if isinstance(value, bytes):
        if len(value) > MAX_ORIGIN_BYTES or not value.isascii():
            return None
        value = value.decode("ascii")
    elif len(value) > MAX_ORIGIN_BYTES or not value.isascii():
        return None
    scheme, sep, rest = value.strip().partition("://")
    scheme = scheme.lower()
    if not sep or scheme not in DEFAULT_PORTS:
        return None
    authority = rest
    for stop in "/?#":
        authority = authority.partition(stop)[0]
    return parse_authority(scheme, authority)


def parse_authority(scheme: str, authority: str) -> Origin | None:
    """Build the origin of ``scheme`` and a ``host[:port]`` authority."""
    if not authority or "@" in authority or any(char in authority for char in " \t\\"):
        return None
    authority = authority.lower()
    if authority.startswith("["):
        end = authority.find("]")
        if end < 0:
            return None
        host, port_text = authority[: end + 1], authority[end + 1 :]
        if port_text and not port_text.startswith(":"):
            return None
        port_text = port_text[1:]
    else:
        host, _, port_text = authority.partition(":")
    if not host:
        return None
    if port_text:
        if not port_text.isdigit() or len(port_text) > 5 or not 0 < int(port_text) < 65536:
            return None
        port = int(port_text)
    else:
        port = DEFAULT_PORTS[scheme]
    return Origin(scheme, host, port)


def parse_origins(values: Iterable[str]) -> frozenset[Origin]:
    """Parse configured origins; the config has already checked their form."""
    parsed = (parse_origin(value) for value in values)
    return frozenset(origin for origin in parsed if origin is not None)
