"""Request targets (RFC 9112 section 3.2) and the authority a request is for.

Accepted forms: origin-form (``/path?query``), absolute-form with an http or
https scheme, and asterisk-form for OPTIONS. Authority-form is only meaningful
for CONNECT, which the parser rejects before it gets here.
"""

from __future__ import annotations

import functools
from typing import Final

from stockade.http.charsets import IP_LITERAL_CHARS, REG_NAME_CHARS
from stockade.http.errors import ProtocolError

MAX_PORT_DIGITS: Final = 5
"""Digits of a port: 65535 has five."""

MAX_PORT: Final = 65535

_SCHEME_PREFIXES: Final = (b"http://", b"https://")


def split_target(method: bytes, target: bytes) -> tuple[bytes, bytes | None]:
    """Return the origin-form target and, for absolute-form, its authority.

    An absolute-form target ``http://a.example/x?q`` becomes ``/x?q`` with
    authority ``a.example``; origin-form and ``*`` come back unchanged with
    no authority.
    """
    if target[:1] == b"/":
        if b"#" in target:
            _check_no_fragment(target)
        return target, None
    if target == b"*":
        if method != b"OPTIONS":
            raise ProtocolError(f"asterisk-form target is only valid for OPTIONS, not {method!r}")
        return target, None
    lowered = target[:8].lower()
    for prefix in _SCHEME_PREFIXES:
        if lowered.startswith(prefix):
            return _split_absolute(target[len(prefix):])
    raise ProtocolError(f"request target {target[:64]!r} is not origin-form or absolute-form")


def _split_absolute(rest: bytes) -> tuple[bytes, bytes]:
    _check_no_fragment(rest)
    slash = rest.find(b"/")
    question = rest.find(b"?")
    end = len(rest)
    for position in (slash, question):
        if position != -1 and position < end:
            end = position
    authority = rest[:end]
    path = rest[end:]
    if b"@" in authority:
        # RFC 9110 section 4.2.4: userinfo in an http(s) URI is deprecated and
        # a recipient ought to treat it as an error; it also hides the real host.
        raise ProtocolError("absolute-form target carries userinfo before the host")
    if not is_valid_authority(authority):
        raise ProtocolError(f"absolute-form target has an invalid authority {authority[:64]!r}")
    if not path:
        path = b"/"
    elif path[:1] == b"?":
        path = b"/" + path
    return path, authority.lower()


def _check_no_fragment(target: bytes) -> None:
    # A fragment never leaves the client (RFC 9110 section 4.2.5); one in a
    # request target means the path ends at different places for different servers.
    if b"#" in target:
        raise ProtocolError("request target contains a fragment ('#')")


def request_authority(
    version: bytes, host_values: list[bytes] | None, target_authority: bytes | None
) -> bytes:
    """Return the lower-cased authority of a request, checking its Host field.

    RFC 9112 section 3.2: an HTTP/1.1 request must carry exactly one valid Host
    field, and when the target is in absolute-form its authority overrides
    Host. An HTTP/1.0 request may omit Host; then the authority is empty
    unless the target names one.
    """
    if host_values is None:
        if version == b"1.1":
            raise ProtocolError("missing Host field in an HTTP/1.1 request")
        return target_authority or b""
    if len(host_values) > 1:
        raise ProtocolError(f"{len(host_values)} Host fields; send exactly one")
    host = host_values[0]
    lowered = _lowered_valid_authority(host)
    if lowered is None:
        raise ProtocolError(f"invalid Host {host[:64]!r}; expected host or host:port")
    if target_authority is not None:
        return target_authority
    return lowered


HOST_CACHE_SIZE = 256
"""Distinct Host values whose check is kept; clients of one gateway send few of them."""


@functools.lru_cache(maxsize=HOST_CACHE_SIZE)
def _lowered_valid_authority(host: bytes) -> bytes | None:
    """Return ``host`` lower-cased when it is a valid authority, else None."""
    return host.lower() if is_valid_authority(host) else None


def is_valid_authority(authority: bytes) -> bool:
    """Return whether ``authority`` is ``host[:port]`` with a DNS name, IPv4 or IPv6 literal.

    The check is stricter than RFC 3986: no empty host, no empty port, no
    percent-encoding or sub-delims in names (see ``REG_NAME_CHARS``).
    """
    if authority[:1] == b"[":
        close = authority.find(b"]")
        literal = authority[1:close]
        if close == -1 or b":" not in literal or literal.translate(None, IP_LITERAL_CHARS):
            return False
        rest = authority[close + 1:]
        if not rest:
            return True
        if rest[:1] != b":":
            return False
        return _is_valid_port(rest[1:])
    host, colon, port = authority.partition(b":")
    if not host or host.translate(None, REG_NAME_CHARS):
        return False
    return not colon or _is_valid_port(port)


def _is_valid_port(port: bytes) -> bool:
    return 0 < len(port) <= MAX_PORT_DIGITS and port.isdigit() and int(port) <= MAX_PORT

