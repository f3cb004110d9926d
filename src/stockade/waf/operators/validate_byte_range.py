"""The ``@validateByteRange`` operator."""

from __future__ import annotations

from pathlib import Path

from stockade.waf.operators._registry import Operator, OperatorContext, OperatorError, register

_MAX_BYTE = 255


class ValidateByteRange:
    """Match when the value contains a byte outside the allowed ranges.

    Argument: byte values and inclusive ranges, separated by commas.
    Example: ``@validateByteRange 32-126`` matches ``a\\x00b`` but not ``ab``.
    """

    name = "validateByteRange"

    def __init__(self, allowed: bytes) -> None:
        self.allowed = allowed

    def evaluate(self, value: bytes, ctx: OperatorContext) -> bool:
        return bool(value.translate(None, self.allowed))


def _parse_byte(text: str, argument: str) -> int:
    stripped = text.strip()
    if not stripped.isdigit() or int(stripped) > _MAX_BYTE:
        raise OperatorError(
            "validateByteRange", argument, f"{text!r} is not a byte value from 0 to 255"
        )
    return int(stripped)


def parse_byte_ranges(argument: str) -> bytes:
    """Return every byte the argument allows, e.g. ``"9,10,32-126"``."""
    allowed: set[int] = set()
    for item in argument.split(","):
        if not item.strip():
            continue
        low_text, dash, high_text = item.partition("-")
        low = _parse_byte(low_text, argument)
        high = _parse_byte(high_text, argument) if dash else low
        if high < low:
            raise OperatorError(
                "validateByteRange", argument, f"range {item.strip()!r} ends before it starts"
            )
        allowed.update(range(low, high + 1))
    if not allowed:
        raise OperatorError("validateByteRange", argument, "no byte values given")
    return bytes(sorted(allowed))


@register("validateByteRange")
def build_validate_byte_range(argument: str, base_dir: Path | None) -> Operator:
    return ValidateByteRange(parse_byte_ranges(argument))
