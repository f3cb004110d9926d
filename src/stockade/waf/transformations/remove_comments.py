"""The ``removeComments`` transformation."""

from __future__ import annotations

from stockade.waf.transformations._registry import register
from stockade.waf.transformations._tokens import TokenFinder

_OUTSIDE_TOKENS = (b"/*", b"<!--", b"--", b"#")
_LINE_COMMENTS = (b"--", b"#")
_CLOSERS = (b"*/", b"-->")


@register("removeComments")
def remove_comments(value: bytes) -> bytes:
    """Remove ``/* */`` and ``<!-- -->`` comments and cut at ``--`` or ``#``.

    Either closer ends either kind of comment, as in ModSecurity v3. The
    byte right after a comment's end is copied without being examined, and
    it is a NUL byte when the comment ends the value. A comment left open
    becomes one space.

    Argument: none.
    Example: ``t:removeComments`` turns ``1 <!--x-->OR/**/2-- rest`` into ``1 OR2``.
    """
    openers = TokenFinder(value, _OUTSIDE_TOKENS)
    position, token = openers.find(0)
    if position < 0:
        return value
    closers = TokenFinder(value, _CLOSERS)
    output: list[bytes] = []
    index = 0
    while position >= 0:
        output.append(value[index:position])
        if token in _LINE_COMMENTS:
            return b"".join(output)
        closing, closer = closers.find(position + len(token))
        if closing < 0:
            output.append(b" ")
            return b"".join(output)
        index = closing + len(closer)
        output.append(value[index : index + 1] or b"\x00")
        index += 1
        position, token = openers.find(index)
    output.append(value[index:])
    return b"".join(output)
