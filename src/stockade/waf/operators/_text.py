"""Operator arguments as bytes, with ``%{...}`` macros expanded when the rule runs."""

from __future__ import annotations

from stockade.waf.operators._registry import OperatorContext


def to_bytes(text: str) -> bytes:
    """Encode rule text the way the engine does, keeping undecodable bytes intact."""
    return text.encode("utf-8", "surrogateescape")


class MacroText:
    """An operator argument that may contain macros such as ``%{tx.allowed_methods}``.

    Text without ``%{`` is encoded once; text with it is expanded through the
    transaction on every evaluation.
    """

    __slots__ = ("constant", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self.constant: bytes | None = None if "%{" in text else to_bytes(text)

    def resolve(self, ctx: OperatorContext) -> bytes:
        """Return the argument's bytes for this evaluation."""
        if self.constant is not None:
            return self.constant
        return to_bytes(ctx.expand_macros(self.text))
