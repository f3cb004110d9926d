"""The ``replaceComments`` transformation."""

from __future__ import annotations

from stockade.waf.transformations._registry import register


@register("replaceComments")
def replace_comments(value: bytes) -> bytes:
    """Replace each C-style ``/* ... */`` comment with one space.

    A comment left open runs to the end and still becomes one space. A lone
    ``*/`` outside a comment stays.

    Argument: none.
    Example: ``t:replaceComments`` turns ``UNION/**/SELECT/*x`` into ``UNION SELECT ``.
    """
    opening = value.find(b"/*")
    if opening < 0:
        return value
    output: list[bytes] = []
    index = 0
    while opening >= 0:
        output.append(value[index:opening])
        output.append(b" ")
        closing = value.find(b"*/", opening + 2)
        if closing < 0:
            return b"".join(output)
        index = closing + 2
        opening = value.find(b"/*", index)
    output.append(value[index:])
    return b"".join(output)
