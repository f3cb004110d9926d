"""Interpretation of the fields that decide how a message is framed.

Every rule takes the strict branch that RFC 9112 allows: a message whose
framing two servers could read differently is rejected rather than repaired,
because a proxy that repairs it forwards something the client did not mean.
"""

from __future__ import annotations

from typing import Final

from stockade.http.charsets import is_token
from stockade.http.errors import ProtocolError

MAX_CONTENT_LENGTH_DIGITS: Final = 18
"""Digits of a Content-Length value; 18 keeps every value below 2**63 for any upstream."""

REQUEST_PROTECTED_FIELDS: Final = frozenset(
    {b"content-length", b"transfer-encoding", b"host", b"authorization"}
)
"""Fields a request's Connection must not name.

A proxy removes the fields that Connection names (RFC 9110 section 7.6.1), so
naming framing, routing or credential fields makes the gateway and the
upstream see different messages.
"""

RESPONSE_PROTECTED_FIELDS: Final = frozenset({b"content-length", b"transfer-encoding"})
"""Fields a response's Connection must not name: the ones that frame its body."""

FORBIDDEN_TRAILER_FIELDS: Final = frozenset(
    {
        # framing and connection management
        b"content-length", b"transfer-encoding", b"trailer", b"connection", b"keep-alive",
        b"proxy-connection", b"te", b"upgrade",
        # routing, credentials and request modifiers
        b"host", b"authorization", b"proxy-authorization", b"cookie", b"set-cookie",
        b"expect", b"range", b"max-forwards",
        # content format
        b"content-type", b"content-encoding", b"content-range",
    }
)
"""Fields rejected in a trailer section.

RFC 9110 section 6.5.1: framing, routing, authentication, request modifiers and
content format must be known before the body, so their definitions do not
allow them in trailers. Rejecting them keeps a trailer from changing what the
head said to a later stage or to an upstream that merges trailers.
"""


def content_length_of(values: list[bytes]) -> int:
    """Return the single Content-Length value as an integer.

    RFC 9110 section 8.6: Content-Length = 1*DIGIT. More than one field line,
    or a list such as ``42, 42``, is rejected even when the values agree.
    ``bytes.isdigit`` accepts ASCII digits only, unlike ``int()``, which also
    takes signs, underscores and surrounding whitespace.
    """
    if len(values) > 1:
        raise ProtocolError(f"{len(values)} Content-Length fields; send exactly one")
    value = values[0]
    if not value.isdigit():
        raise ProtocolError(f"Content-Length {value[:32]!r} is not a decimal number")
    if len(value) > MAX_CONTENT_LENGTH_DIGITS:
        raise ProtocolError(
            f"Content-Length has {len(value)} digits, more than {MAX_CONTENT_LENGTH_DIGITS}"
        )
    return int(value)


def check_chunked_only(values: list[bytes]) -> None:
    """Check that Transfer-Encoding is exactly one ``chunked`` coding.

    RFC 9112 section 6.3: when chunked is not the final coding of a request,
    its length cannot be determined and the server must answer 400. Section
    6.1: a coding the server does not implement gets 501; chunked is the only
    transfer coding Stockade decodes. Section 7.1: chunked takes no
    parameters, so ``chunked;x=y`` is an error.
    """
    if len(values) > 1:
        raise ProtocolError(f"{len(values)} Transfer-Encoding fields; send exactly one")
    value = values[0]
    if value.lower() == b"chunked":
        return
    codings = [coding.strip(b" \t") for coding in value.split(b",")]
    for coding in codings:
        if not is_token(coding):
            raise ProtocolError(f"Transfer-Encoding {value[:64]!r} is not a list of codings")
    lowered = [coding.lower() for coding in codings]
    if lowered[-1] != b"chunked":
        raise ProtocolError(f"Transfer-Encoding {value[:64]!r} does not end with chunked")
    if b"chunked" in lowered[:-1]:
        raise ProtocolError(f"Transfer-Encoding {value[:64]!r} applies chunked twice")
    unknown = codings[0]
    raise ProtocolError(f"transfer coding {unknown[:32]!r} is not implemented", 501)


_COMMON_OPTIONS: Final = {
    b"keep-alive": frozenset({b"keep-alive"}),
    b"close": frozenset({b"close"}),
}
"""Connection values most clients send, answered without splitting the list."""


def connection_options(values: list[bytes], protected: frozenset[bytes]) -> frozenset[bytes]:
    """Return the lower-cased options of the Connection fields.

    Empty list elements are skipped (RFC 9110 section 5.6.1); an option that is
    not a token, or that names a field in ``protected``, is rejected.
    """
    if len(values) == 1:
        common = _COMMON_OPTIONS.get(values[0].lower())
        if common is not None:
            return common
    options: set[bytes] = set()
    for value in values:
        for element in value.split(b","):
            option = element.strip(b" \t").lower()
            if not option:
                continue
            if not is_token(option):
                raise ProtocolError(f"Connection option {option[:32]!r} is not a token")
            if option in protected:
                raise ProtocolError(f"Connection names the {option.decode('ascii')} field")
            options.add(option)
    return frozenset(options)


def is_keep_alive(version: bytes, options: frozenset[bytes]) -> bool:
    """Return whether the connection stays open after this message (RFC 9112 section 9.3)."""
    if b"close" in options:
        return False
    if version == b"1.0":
        return b"keep-alive" in options
    return True


def check_trailer_names(items: list[tuple[bytes, bytes]]) -> None:
    """Reject a trailer section that carries a field listed in ``FORBIDDEN_TRAILER_FIELDS``."""
    for name, _ in items:
        if name.lower() in FORBIDDEN_TRAILER_FIELDS:
            raise ProtocolError(f"the {name.decode('ascii')} field is not allowed in trailers")
