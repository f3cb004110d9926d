"""The ``@detectXSS`` operator."""

from __future__ import annotations

from pathlib import Path

from stockade.waf.operators._libinjection import is_xss
from stockade.waf.operators._registry import Operator, OperatorContext, register


class DetectXss:
    """Match when libinjection recognizes cross-site scripting in the value.

    Argument: none.
    Example: ``@detectXSS`` matches ``<script>alert(1)</script>``.
    """

    name = "detectXSS"

    def evaluate(self, value: bytes, ctx: OperatorContext) -> bool:
        return is_xss(value)


@register("detectXSS")
def build_detect_xss(argument: str, base_dir: Path | None) -> Operator:
    return DetectXss()
