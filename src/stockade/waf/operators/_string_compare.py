"""Shared shape of the operators that compare the value with their argument text."""

from __future__ import annotations

from stockade.waf.operators._registry import OperatorContext
from stockade.waf.operators._text import MacroText


class StringComparison:
    """Base of the operators that test the value against one (macro-expanded) string.

    Subclasses set ``name`` and implement ``matches``. With the ``capture``
    action, TX.0 becomes the argument text that matched.
    """

    name = ""

    def __init__(self, argument: str) -> None:
        self.argument = MacroText(argument)

    def matches(self, value: bytes, target: bytes) -> bool:
        raise NotImplementedError

    def evaluate(self, value: bytes, ctx: OperatorContext) -> bool:
        target = self.argument.resolve(ctx)
        if not self.matches(value, target):
            return False
        if ctx.capture:
            ctx.set_captures([target])
        return True
