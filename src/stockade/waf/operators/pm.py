"""The ``@pm`` operator."""

from __future__ import annotations

from pathlib import Path

from stockade.waf.operators._phrases import PhraseSet
from stockade.waf.operators._registry import Operator, OperatorContext, OperatorError, register


class PhraseMatch:
    """Match when any of a set of phrases occurs in the value, ignoring ASCII case.

    With the ``capture`` action, TX.0 is the phrase that matched, as listed.

    Argument: phrases separated by spaces (``@pm``) or a file of phrases
    (``@pmFromFile``).
    Example: ``@pm gzip deflate br`` matches ``x-GZIP, identity``.
    """

    def __init__(self, name: str, phrases: PhraseSet) -> None:
        self.name = name
        self.phrases = phrases

    def evaluate(self, value: bytes, ctx: OperatorContext) -> bool:
        phrase = self.phrases.first_match(value)
        if phrase is None:
            return False
        if ctx.capture:
            ctx.set_captures([phrase])
        return True


def split_phrases(argument: str) -> list[str]:
    """Split an ``@pm`` argument into phrases at runs of whitespace."""
    return argument.split()


@register("pm")
def build_pm(argument: str, base_dir: Path | None) -> Operator:
    phrases = split_phrases(argument)
    if not phrases:
        raise OperatorError("pm", argument, "no phrases given; list them separated by spaces")
    return PhraseMatch("pm", PhraseSet(phrases))
