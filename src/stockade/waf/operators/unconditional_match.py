"""The ``@unconditionalMatch`` operator."""

from __future__ import annotations

from pathlib import Path

from stockade.waf.operators._registry import Operator, OperatorContext, register


class UnconditionalMatch:
    """Match every value.

    Argument: none.
    Example: ``@unconditionalMatch`` matches the empty value.
    """

    name = "unconditionalMatch"

    def evaluate(self, value: bytes, ctx: OperatorContext) -> bool:
        return True


@register("unconditionalMatch")
def build_unconditional_match(argument: str, base_dir: Path | None) -> Operator:
    return UnconditionalMatch()
