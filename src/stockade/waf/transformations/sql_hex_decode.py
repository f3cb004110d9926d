"""The ``sqlHexDecode`` transformation."""

from __future__ import annotations

from stockade.waf.transformations._registry import register
from stockade.waf.transformations._scan import HEX_DIGITS, span_of


def _hex_run_end(value: bytes, start: int) -> int:
    """Return the end of the run of whole hex-digit pairs that begins at ``start``."""
    digits = span_of(value, start, HEX_DIGITS) - start
    return start + digits - digits % 2


@register("sqlHexDecode")
def sql_hex_decode(value: bytes) -> bytes:
    """Decode SQL hex literals: ``0x`` followed by pairs of hex digits.

    The literal's pairs become bytes and an odd final digit stays; a ``0x``
    without a pair after it stays as it is.

    Argument: none.
    Example: ``t:sqlHexDecode`` turns ``SELECT 0x61646d696e5`` into ``SELECT admin5``.
    """
    # NOTE: ModSecurity v3 also drops the last byte of every value and stops
    # at a NUL byte; this follows the documented behaviour instead.
    lowered = value.lower()
    prefix = lowered.find(b"0x")
    if prefix < 0:
        return value
    output: list[bytes] = []
    index = 0
    while prefix >= 0:
        run_end = _hex_run_end(value, prefix + 2)
        if run_end > prefix + 2:
            output.append(value[index:prefix])
            output.append(bytes.fromhex(value[prefix + 2 : run_end].decode("ascii")))
            index = run_end
            prefix = lowered.find(b"0x", run_end)
        else:
            prefix = lowered.find(b"0x", prefix + 1)
    output.append(value[index:])
    return b"".join(output)
