"""The ``lowercase`` transformation."""

from __future__ import annotations

from stockade.waf.transformations._registry import register


@register("lowercase")
def lowercase(value: bytes) -> bytes:
    """Lowercase ASCII letters and leave every other byte as it is.

    Argument: none.
    Example: ``t:lowercase`` turns ``SeLeCT \\xc9`` into ``select \\xc9``.
    """
    return value.lower()
