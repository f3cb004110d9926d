"""Shared shape of ``@eq``, ``@ge``, ``@gt``, ``@le`` and ``@lt``."""

from __future__ import annotations

from stockade.waf.integers import parse_integer
from stockade.waf.operators._registry import OperatorContext
from stockade.waf.operators._text import MacroText


class NumericComparison:
    """Base of the operators that compare the value and the argument as integers.

    Both sides are read with :func:`parse_integer`, so a value that is not a
    number counts as 0. Subclasses set ``name`` and implement ``compare``.
    """

    name = ""

    def __init__(self, argument: str) -> None:
        self.argument = MacroText(argument.strip())
        constant = self.argument.constant
        self.operand = parse_integer(constant) if constant is not None else None

    def compare(self, value: int, target: int) -> bool:
        raise NotImplementedError

    def evaluate(self, value: bytes, ctx: OperatorContext) -> bool:
        operand = self.operand
        if operand is None:
            operand = parse_integer(self.argument.resolve(ctx))
        return self.compare(parse_integer(value), operand)
