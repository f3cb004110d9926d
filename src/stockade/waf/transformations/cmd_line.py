"""The ``cmdLine`` transformation."""

from __future__ import annotations

from stockade.waf.transformations._registry import register
from stockade.waf.transformations._whitespace import squeeze_spaces

_DELETED = b"\"'\\^"  # quoting and escaping that shells drop
_SEPARATORS = b" ,;\t\r\n"  # argument separators, each run becomes one space
_TO_SPACE = bytes.maketrans(_SEPARATORS, b" " * len(_SEPARATORS))


@register("cmdLine")
def cmd_line(value: bytes) -> bytes:
    """Normalize a command line the way ModSecurity does against shell evasion.

    Deletes ``\\ " ' ^``, turns each run of space, comma, semicolon, tab, CR
    and LF into one space, drops a space before ``/`` or ``(``, and
    lowercases ASCII letters.

    Argument: none.
    Example: ``t:cmdLine`` turns ``C^M"D.exe ,; /c  dir`` into ``cmd.exe/c dir``.
    """
    normalized = squeeze_spaces(value.translate(_TO_SPACE, _DELETED))
    if b" /" in normalized:
        normalized = normalized.replace(b" /", b"/")
    if b" (" in normalized:
        normalized = normalized.replace(b" (", b"(")
    return normalized.lower()
