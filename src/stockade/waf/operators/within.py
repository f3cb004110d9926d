"""The ``@within`` operator."""

from __future__ import annotations

from pathlib import Path

from stockade.waf.operators._registry import Operator, OperatorContext, register
from stockade.waf.operators._text import MacroText


class Within:
    """Match when the value occurs anywhere in the argument, case-sensitively.

    This is a substring test, as in ModSecurity, so ``GET`` is within
    ``GET HEAD`` and so is ``ET H``; CRS wraps list items in ``|`` or
    spaces where that matters. With the ``capture`` action, TX.0 is the value.

    Argument: a string, usually a macro such as ``%{tx.allowed_methods}``.
    Example: ``@within GET HEAD POST`` matches ``HEAD``.
    """

    name = "within"

    def __init__(self, argument: str) -> None:
        self.argument = MacroText(argument)

    def evaluate(self, value: bytes, ctx: OperatorContext) -> bool:
        if value not in self.argument.resolve(ctx):
            return False
        if ctx.capture:
            ctx.set_captures([value])
        return True


@register("within")
def build_within(argument: str, base_dir: Path | None) -> Operator:
    return Within(argument)
