"""The ``uppercase`` transformation."""

from __future__ import annotations

from stockade.waf.transformations._registry import register


@register("uppercase")
def uppercase(value: bytes) -> bytes:
    """Uppercase ASCII letters and leave every other byte as it is.

    Argument: none.
    Example: ``t:uppercase`` turns ``select`` into ``SELECT``.
    """
    return value.upper()
