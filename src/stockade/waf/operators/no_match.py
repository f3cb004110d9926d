"""The ``@noMatch`` operator."""

from __future__ import annotations

from pathlib import Path

from stockade.waf.operators._registry import Operator, OperatorContext, register


class NoMatch:
    """Match no value.

    Argument: none.
    Example: ``@noMatch`` does not match ``anything``.
    """

    name = "noMatch"

    def evaluate(self, value: bytes, ctx: OperatorContext) -> bool:
        return False


@register("noMatch")
def build_no_match(argument: str, base_dir: Path | None) -> Operator:
    return NoMatch()
