"""The ``@containsWord`` operator."""

from __future__ import annotations

from pathlib import Path

from stockade.waf.operators._registry import Operator, register
from stockade.waf.operators._string_compare import StringComparison

# ModSecurity 3.0.9 ends a word at any byte but an ASCII letter, so digits
# and "_" count as boundaries there (measured with libmodsecurity).
_WORD_BYTES = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")


def _is_boundary(value: bytes, index: int) -> bool:
    """Tell whether position ``index`` is outside ``value`` or is a non-word byte."""
    return index < 0 or index >= len(value) or value[index] not in _WORD_BYTES


class ContainsWord(StringComparison):
    """Match when the argument occurs in the value as a whole word, case-sensitively.

    A word is bounded by the ends of the value or by any byte but an ASCII
    letter, as in ModSecurity 3.0.9, so ``select`` is a word in ``1select_``.
    An empty argument matches every value.

    Argument: a string, macros expanded.
    Example: ``@containsWord select`` matches ``1 select 2`` but not ``selection``.
    """

    name = "containsWord"

    def matches(self, value: bytes, target: bytes) -> bool:
        if not target:
            return True
        position = value.find(target)
        while position >= 0:
            if _is_boundary(value, position - 1) and _is_boundary(value, position + len(target)):
                return True
            position = value.find(target, position + 1)
        return False


@register("containsWord")
def build_contains_word(argument: str, base_dir: Path | None) -> Operator:
    return ContainsWord(argument)
