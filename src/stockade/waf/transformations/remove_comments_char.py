"""The ``removeCommentsChar`` transformation."""

from __future__ import annotations

from stockade.waf.transformations._registry import register
from stockade.waf.transformations._tokens import TokenFinder

# Listed so that "-->" wins over "--" when both start at the same byte.
_TOKENS = (b"/*", b"*/", b"<!--", b"-->", b"--", b"#")


@register("removeCommentsChar")
def remove_comments_char(value: bytes) -> bytes:
    """Delete the comment markers ``/*``, ``*/``, ``<!--``, ``-->``, ``--`` and ``#``.

    Only the markers go; the text between them stays. Markers are read left
    to right in the original value, so deleting one never forms a new one.

    Argument: none.
    Example: ``t:removeCommentsChar`` turns ``UNION/**/SEL#ECT--`` into ``UNIONSELECT``.
    """
    tokens = TokenFinder(value, _TOKENS)
    position, token = tokens.find(0)
    if position < 0:
        return value
    output: list[bytes] = []
    index = 0
    while position >= 0:
        output.append(value[index:position])
        index = position + len(token)
        position, token = tokens.find(index)
    output.append(value[index:])
    return b"".join(output)
