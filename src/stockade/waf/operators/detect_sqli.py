"""The ``@detectSQLi`` operator."""

from __future__ import annotations

from pathlib import Path

from stockade.waf.operators._libinjection import sqli_fingerprint
from stockade.waf.operators._registry import Operator, OperatorContext, register


class DetectSqli:
    """Match when libinjection recognizes SQL injection in the value.

    With the ``capture`` action, TX.0 is libinjection's token fingerprint,
    as ModSecurity stores it.

    Argument: none.
    Example: ``@detectSQLi`` matches ``1' or '1'='1`` (fingerprint ``s&sos``).
    """

    name = "detectSQLi"

    def evaluate(self, value: bytes, ctx: OperatorContext) -> bool:
        fingerprint = sqli_fingerprint(value)
        if fingerprint is None:
            return False
        if ctx.capture:
            ctx.set_captures([fingerprint])
        return True


@register("detectSQLi")
def build_detect_sqli(argument: str, base_dir: Path | None) -> Operator:
    return DetectSqli()
