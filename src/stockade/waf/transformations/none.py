"""The ``none`` transformation."""

from __future__ import annotations

from stockade.waf.transformations._registry import register


@register("none")
def none(value: bytes) -> bytes:
    """Return the value unchanged.

    In a rule, ``t:none`` also clears the transformations inherited from
    SecDefaultAction; the engine does that, this function only passes through.

    Argument: none.
    Example: ``t:none`` turns ``a%20b`` into ``a%20b``.
    """
    return value
